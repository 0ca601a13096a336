import { Command } from '@commander-js/extra-typings';
import { registerAppointments } from './commands/appointments.js';
import { registerAuth } from './commands/auth.js';
import { registerClinics } from './commands/clinics.js';
import { registerDb } from './commands/db.js';
import { registerDoctors } from './commands/doctors.js';
import { registerInit } from './commands/init.js';
import { registerPatients } from './commands/patients.js';
import { registerReport } from './commands/report.js';
import { registerSeed } from './commands/seed.js';
import { registerServe } from './commands/serve.js';
import { registerSlots } from './commands/slots.js';
import { registerUsers } from './commands/users.js';

declare const __ASCEND_VERSION__: string;

export function buildProgram(): Command {
  const program = new Command('ascend')
    .description('Clinics, doctors, patients, slots and appointments — from the terminal, scripts and CI')
    .version(typeof __ASCEND_VERSION__ === 'string' ? __ASCEND_VERSION__ : 'dev', '-V, --version')
    .option('--json', 'machine-readable output on stdout (the HTTP API shapes)')
    .option('--verbose', 'show stack traces with errors')
    .option('--no-color', 'no colour (also: NO_COLOR=1)')
    .showSuggestionAfterError()
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 unexpected, 2 usage or validation, 3 not found, 4 conflict, 5 not authenticated,
            6 forbidden, 7 database unreachable, 130 interrupted (Ctrl-C).
Database:   DATABASE_URL selects a PostgreSQL server; without it ascend runs its own (see ascend db status).`,
    );
  registerInit(program);
  registerDb(program);
  registerAuth(program);
  registerUsers(program);
  registerClinics(program);
  registerDoctors(program);
  registerPatients(program);
  registerSlots(program);
  registerAppointments(program);
  registerSeed(program);
  registerReport(program);
  registerServe(program);
  return program;
}
