export { User } from './user.js';
export { Clinic } from './clinic.js';
export { Doctor, DoctorHours, DoctorLeave } from './doctor.js';
export { Patient } from './patient.js';
export { Slot } from './slot.js';
export { Appointment } from './appointment.js';
export { AuditEvent } from './audit-event.js';

import { User } from './user.js';
import { Clinic } from './clinic.js';
import { Doctor, DoctorHours, DoctorLeave } from './doctor.js';
import { Patient } from './patient.js';
import { Slot } from './slot.js';
import { Appointment } from './appointment.js';
import { AuditEvent } from './audit-event.js';

export const allEntities = [User, Clinic, Doctor, DoctorHours, DoctorLeave, Patient, Slot, Appointment, AuditEvent];
