// The public directory: clinics, doctors and free slots as anonymous callers may browse them when serve runs
// with --public-directory (src/http/server.ts lets them through to these routes only). Signed-in users get the
// full views, as before; anonymous callers a public view of active records, built by picking the fields the
// public schemas name (src/domain/schemas: publicClinicView, publicDoctorView, publicSlotView), so a field
// added to a full view stays private until a public schema names it. Nothing about patients or bookings.
import { NotFoundError } from '../domain/errors.js';
import type { Page } from '../domain/schemas/common.js';
import { listClinicsInput, type ListClinicsInput, publicClinicView, type PublicClinicView } from '../domain/schemas/clinics.js';
import { listDoctorsInput, type ListDoctorsInput, publicDoctorView, type PublicDoctorView } from '../domain/schemas/doctors.js';
import { type FreeSlotsInput, publicSlotView, type PublicSlotView } from '../domain/schemas/slots.js';
import { parseInput, type Untrusted } from '../domain/validation.js';
import type { ClinicView, DoctorView, SlotView } from '../domain/views.js';
import { getClinic, listClinics } from './clinics.js';
import type { ServiceContext } from './context.js';
import { getDoctor, listDoctors } from './doctors.js';
import { freeSlots } from './slots.js';

const anonymous = (ctx: ServiceContext) => ctx.actor.kind === 'anonymous';

function publicPage<T, P>(page: Page<T>, view: { parse: (item: T) => P }): Page<P> {
  return { ...page, items: page.items.map((item) => view.parse(item)) };
}

export async function browseClinics(ctx: ServiceContext, raw: ListClinicsInput | Untrusted): Promise<Page<ClinicView> | Page<PublicClinicView>> {
  if (!anonymous(ctx)) return listClinics(ctx, raw);
  // Deactivated clinics are the staff's business: includeInactive is ignored.
  return publicPage(await listClinics(ctx, { ...parseInput(listClinicsInput, raw), includeInactive: false }), publicClinicView);
}

export async function browseClinic(ctx: ServiceContext, id: number): Promise<ClinicView | PublicClinicView> {
  const clinic = await getClinic(ctx, id);
  if (!anonymous(ctx)) return clinic;
  if (!clinic.isActive) throw new NotFoundError('clinic', id);
  return publicClinicView.parse(clinic);
}

export async function browseDoctors(ctx: ServiceContext, raw: ListDoctorsInput | Untrusted): Promise<Page<DoctorView> | Page<PublicDoctorView>> {
  if (!anonymous(ctx)) return listDoctors(ctx, raw);
  return publicPage(await listDoctors(ctx, { ...parseInput(listDoctorsInput, raw), includeInactive: false }), publicDoctorView);
}

export async function browseDoctor(ctx: ServiceContext, id: number): Promise<DoctorView | PublicDoctorView> {
  const doctor = await getDoctor(ctx, id);
  if (!anonymous(ctx)) return doctor;
  if (!doctor.isActive) throw new NotFoundError('doctor', id);
  return publicDoctorView.parse(doctor);
}

/** Free slots are active, future, not full, of active doctors (./slots/free.ts): the places left show, not who took the others. */
export async function browseFreeSlots(ctx: ServiceContext, raw: FreeSlotsInput | Untrusted): Promise<Page<SlotView> | Page<PublicSlotView>> {
  const page = await freeSlots(ctx, raw);
  return anonymous(ctx) ? publicPage(page, publicSlotView) : page;
}
