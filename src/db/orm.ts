import { MikroORM, type Options } from '@mikro-orm/postgresql';
import { ormConfig } from './orm-config.js';
import { toDatabaseError } from './errors.js';

export type { MikroORM };

// MikroORM compares its packages' versions by reading package.json files next to its own code; in the bundle
// that lands on ascend's package.json and fails. The versions are pinned exactly in package.json instead.
process.env.MIKRO_ORM_ALLOW_VERSION_MISMATCH ??= '1';

export async function openOrm(url: string, overrides: Partial<Options> = {}): Promise<MikroORM> {
  try {
    return await MikroORM.init(ormConfig(url, overrides));
  } catch (err) {
    throw toDatabaseError(err, url);
  }
}
