// First-time set-up: the schema (migrated by the caller), the signing key and the first admin.
import { User } from '../domain/entities/index.js';
import { ConflictError } from '../domain/errors.js';
import { SYSTEM } from '../domain/roles.js';
import { initInput, type InitInput } from '../domain/schemas/users.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import { userView, type UserView } from '../domain/views.js';
import { sqlOf } from '../db/sql.js';
import { audit } from './audit.js';
import { actingAs, type ServiceContext } from './context.js';
import { ensureSigningKey } from './auth.js';
import { buildUser, userConstraints } from './users.js';
import { refusedBy } from './support.js';
import { transaction } from './locks.js';

/**
 * Creates the first admin, acting as the system; refuses (ConflictError) once any admin exists, even under
 * concurrent calls.
 */
export async function initialise(ctx: ServiceContext, raw: InitInput | Untrusted): Promise<UserView> {
  const input = parseInput(initInput, raw);
  return refusedBy(
    () =>
      transaction(actingAs(ctx, SYSTEM), async (tx) => {
        const sql = sqlOf(tx.em);
        // Two `init`s at once: the second waits here, then sees the first one's admin.
        await sql.query(`select pg_advisory_xact_lock(hashtext('ascend:init'))`);
        const existing = await tx.em.findOne(User, { role: 'admin' }, { orderBy: { id: 'asc' } });
        if (existing) throw new ConflictError(`ascend is already initialised: admin ${existing.email} exists (log in, or use ascend users create)`);
        await ensureSigningKey(sql);
        const admin = await buildUser(tx, { email: input.adminEmail, name: input.adminName, password: input.adminPassword, role: 'admin' });
        await tx.em.flush();
        audit(tx, { action: 'init', entity: 'user', entityId: admin.id, after: userView(admin) });
        return userView(admin);
      }),
    userConstraints,
  );
}
