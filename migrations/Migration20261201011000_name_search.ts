import { Migration } from '@mikro-orm/migrations';

/**
 * Finding people and clinics by what a person types (src/services/references.ts): names are compared without
 * case and without accents ("jose" finds "José", "muller" finds "Müller"). `ascend_fold` is that comparison's
 * one definition, immutable so that trigram indexes can be built on it: substring and similarity searches on
 * folded names use them instead of reading every row.
 */
export class Migration20261201011000_name_search extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create extension if not exists unaccent;`);
    // unaccent() alone is only STABLE (it reads its dictionary by name from the search path); naming the
    // dictionary makes the result depend on the text alone.
    this.addSql(`
      create function ascend_fold(text) returns text language sql immutable strict parallel safe
        as $$ select lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;`);
    this.addSql(`create index user_name_folded_trgm_idx on "user" using gin (ascend_fold(name) gin_trgm_ops);`);
    this.addSql(`create index clinic_name_city_folded_trgm_idx on clinic using gin (ascend_fold(name || ', ' || city) gin_trgm_ops);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists user_name_folded_trgm_idx, clinic_name_city_folded_trgm_idx;`);
    this.addSql(`drop function if exists ascend_fold(text);`);
  }
}
