// The records with identity and a lifecycle, read and written through the unit of work. Slots and
// appointments have no entity: they are read and written by named SQL (see the data-access rule at the top of
// src/db/sql.ts), as are app_setting, login_failure and login_address.
export { User } from './user.js';
export { Clinic } from './clinic.js';
export { Doctor, DoctorHours, DoctorLeave } from './doctor.js';
export { Patient } from './patient.js';
export { AuditEvent } from './audit-event.js';

import { User } from './user.js';
import { Clinic } from './clinic.js';
import { Doctor, DoctorHours, DoctorLeave } from './doctor.js';
import { Patient } from './patient.js';
import { AuditEvent } from './audit-event.js';

export const allEntities = [User, Clinic, Doctor, DoctorHours, DoctorLeave, Patient, AuditEvent];
