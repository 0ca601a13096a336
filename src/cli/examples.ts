// The examples at the end of every command's --help, in one table keyed by command path ('' is `ascend`
// itself). src/cli/program.ts applies them by walking the command tree, so command files carry none, and
// test/cli/help.test.ts fails when a command has no example, or an example names a flag its command lacks.
// Each line must fit an 80-column terminal below its two-space indent.

export interface Example {
  /** What it does, shown as a comment above it. */
  says: string;
  /** The command line, starting with `ascend`. */
  run: string;
}

const ex = (says: string, run: string): Example => ({ says, run });

export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  '': [
    ex('Start: create the first admin, then log in', 'ascend init --admin-email admin@example.org --admin-name "Ada Admin"'),
    ex('Help on a command, at any depth', 'ascend help appointments book'),
    ex('Tab completion in bash (zsh, fish: see ascend completion --help)', 'source <(ascend completion bash)'),
  ],
  init: [
    ex('Create the schema and the first admin (asks for the password)', 'ascend init --admin-email admin@example.org --admin-name "Ada Admin"'),
    ex('In CI, the password on stdin', 'ascend init --admin-email admin@example.org --admin-name Ada --admin-password-stdin'),
  ],
  db: [ex('Where the database is, and its migrations', 'ascend db status')],
  'db migrate': [ex('Apply pending migrations (a DATABASE_URL server too)', 'ascend db migrate')],
  'db status': [ex('The embedded server and its migrations, for a script', 'ascend db status --json')],
  'db start': [ex('Start the embedded server (any command starts it when needed)', 'ascend db start')],
  'db stop': [ex('Stop the embedded server', 'ascend db stop')],
  'db url': [ex('Open psql on the database', 'psql "$(ascend db url)"')],
  'db reset': [ex('Delete every record and migrate afresh', 'ascend db reset --yes')],
  'db backup': [
    ex('A backup while ascend runs (written whole or not at all)', 'ascend db backup ascend-2026-12-01.backup.gz'),
    ex('To another machine, through stdout', 'ascend db backup - | ssh backup@vault "cat > ascend.backup.gz"'),
  ],
  'db restore': [
    ex('Into a new, empty data dir', 'ASCEND_DATA_DIR=/srv/ascend-new ascend db restore ascend-2026-12-01.backup.gz'),
    ex('Into an empty DATABASE_URL database', 'DATABASE_URL=postgres://ascend@db/ascend_new ascend db restore ascend.backup.gz'),
  ],
  'db verify': [ex('Check every invariant (exit 4 listing what is wrong)', 'ascend db verify'), ex('The report for a script', 'ascend db verify --json')],
  login: [
    ex('Log in (asks for the password)', 'ascend login --email admin@example.org'),
    ex('Log in from a script', 'ascend login --email admin@example.org --password-stdin < pass.txt'),
  ],
  logout: [ex('End this session on the server and forget it here', 'ascend logout')],
  sessions: [ex('Your sessions; * marks this one', 'ascend sessions list')],
  'sessions list': [
    ex('Your sessions; * marks this one', 'ascend sessions list'),
    ex('A user’s sessions, ended ones too (admins)', 'ascend sessions list --user pat@example.org --include-ended'),
  ],
  'sessions revoke': [
    ex('Log out one session (ids from ascend sessions list)', 'ascend sessions revoke 12'),
    ex('Log out everywhere else', 'ascend sessions revoke --all'),
    ex('Admins: log a user out everywhere', 'ascend sessions revoke --all --user pat@example.org'),
  ],
  whoami: [ex('Who is signed in, for a script', 'ascend whoami --json')],
  passwd: [
    ex('Change your password (asks twice)', 'ascend passwd'),
    ex('From a script: the current password, then the new one', 'printf \'%s\\n\' "$OLD" "$NEW" | ascend passwd --password-stdin'),
  ],
  profile: [ex('Your own account', 'ascend profile show')],
  'profile show': [ex('Your own account, for a script', 'ascend profile show --json')],
  'profile update': [
    ex('A new mobile number and address', 'ascend profile update --mobile "+49 30 1234567" --address "Lake Road 1"'),
    ex('A doctor’s qualifications and experience', 'ascend profile update --qualifications "MBBS, MD" --experience-years 12'),
  ],
  'profile image': [ex('Set your profile image', 'ascend profile image set photo.jpg')],
  'profile image set': [
    ex('From a file (PNG, JPEG or WebP, at most 2 MiB)', 'ascend profile image set photo.jpg'),
    ex('From stdin', 'curl -fsS https://example.org/me.png | ascend profile image set -'),
  ],
  'profile image delete': [ex('Remove it without asking', 'ascend profile image delete --yes')],
  users: [ex('Every admin', 'ascend users list --role admin')],
  'users create': [
    ex('An admin (asks for the password)', 'ascend users create --role admin --email ops@example.org --name "Olga Ops"'),
    ex('From a script', 'ascend users create --role admin --email ops@example.org --name Olga --password-stdin < pw'),
  ],
  'users list': [
    ex('Patients whose name or email contains "max"', 'ascend users list --role patient --search max'),
    ex('Everyone, deactivated users too, for a script', 'ascend users list --include-inactive --limit 1000 --json'),
  ],
  'users show': [ex('A user by email (or id)', 'ascend users show max@example.org')],
  'users update': [
    ex('A new mobile number', 'ascend users update max@example.org --mobile "+49 30 1234567"'),
    ex('Clear the address', "ascend users update 5 --address ''"),
  ],
  'users image': [
    ex('Save a user’s profile image', 'ascend users image max@example.org > max.png'),
    ex('The same, naming the file', 'ascend users image 5 --output max.png'),
  ],
  'users deactivate': [ex('End their logins at once', 'ascend users deactivate max@example.org')],
  'users reactivate': [ex('Let them log in again (old tokens stay revoked)', 'ascend users reactivate max@example.org')],
  clinics: [ex('Clinics in one city', 'ascend clinics list --city Pune')],
  'clinics create': [
    ex('A clinic, whose times are read and shown in its zone', 'ascend clinics create --name "Lake Clinic" --city Bhopal --timezone Asia/Kolkata'),
  ],
  'clinics list': [
    ex('Clinics in one city', 'ascend clinics list --city Pune'),
    ex('Whose name, city or address contains "lake"', 'ascend clinics list --search lake --include-inactive'),
  ],
  'clinics show': [ex('Clinic 3', 'ascend clinics show 3')],
  mail: [ex('Check that mail reaches an inbox', 'ascend mail test --to me@example.org')],
  'mail test': [ex('One message now, through the server of ASCEND_SMTP_URL', 'ascend mail test --to me@example.org')],
  'clinics update': [
    ex('A new phone number', 'ascend clinics update 3 --phone "+91 755 1234567"'),
    ex('Remind patients a day and two hours before (none: no reminders)', 'ascend clinics update 3 --reminders 24h,2h'),
  ],
  'clinics deactivate': [ex('Close clinic 3 (refused while it has active doctors)', 'ascend clinics deactivate 3')],
  'clinics reactivate': [ex('Open clinic 3 again (its doctors stay deactivated)', 'ascend clinics reactivate 3')],
  doctors: [ex('Cardiologists in Pune', 'ascend doctors list --specialty cardiology --city Pune')],
  'doctors create': [
    ex(
      'A doctor and their login (asks for the password)',
      'ascend doctors create --email rao@example.org --name "Dr Rao" --clinic 3 --specialty cardiology --license MH-12345',
    ),
  ],
  'doctors list': [
    ex('Cardiologists in Pune', 'ascend doctors list --specialty cardiology --city Pune'),
    ex('Every doctor of clinic 3, deactivated ones too', 'ascend doctors list --clinic 3 --include-inactive'),
  ],
  'doctors show': [ex('Doctor 7', 'ascend doctors show 7')],
  'doctors update': [
    ex('At most 16 appointments a day', 'ascend doctors update 7 --max-per-day 16'),
    ex('Move to clinic 4 (their future slots move too)', 'ascend doctors update 7 --clinic 4'),
  ],
  'doctors deactivate': [ex('Close their future slots, cancelling what is booked', 'ascend doctors deactivate 7 --cancel-bookings')],
  'doctors reactivate': [ex('Bring back a doctor and their login (not their old slots)', 'ascend doctors reactivate "Dr Rao"')],
  'doctors hours': [ex('Doctor 7’s week', 'ascend doctors hours show 7')],
  'doctors hours set': [
    ex(
      'Weekdays, with a lunch break: 20-minute slots',
      'ascend doctors hours set 7 --days mon-fri --start 09:00 --end 13:00 --start 14:00 --end 18:00 --length 20m',
    ),
    ex('Saturday mornings, two patients a slot', 'ascend doctors hours set 7 --days sat --start 09:00 --end 12:00 --length 30m --capacity 2'),
  ],
  'doctors hours show': [ex('Doctor 7’s weekly windows, in the clinic’s time', 'ascend doctors hours show 7')],
  'doctors leave': [ex('Doctor 7’s leave to come', 'ascend doctors leave list 7')],
  'doctors leave add': [
    ex('A week off, both days included', 'ascend doctors leave add 7 --from 2026-12-24 --to 2026-12-31 --reason holiday'),
    ex('An afternoon, cancelling what is booked', 'ascend doctors leave add 7 --from "tomorrow 13:00" --to "tomorrow 18:00" --cancel-bookings'),
  ],
  'doctors leave list': [ex('Leave to come, and leave already taken', 'ascend doctors leave list 7 --include-past')],
  'doctors leave remove': [ex('Remove leave 12 (its id from leave list)', 'ascend doctors leave remove 12')],
  patients: [ex('Patients whose name or email contains "max"', 'ascend patients list --search max')],
  'patients create': [
    ex('A patient and their login (asks for the password)', 'ascend patients create --email max@example.org --name "Max Mustermann" --dob 1990-04-01'),
    ex('With a blood group and allergies', 'ascend patients create --email k@example.org --name Kim --dob 1985-06-15 --blood-group O+ --allergies penicillin'),
  ],
  'patients list': [
    ex('Whose name or email contains "max"', 'ascend patients list --search max'),
    ex('Every patient, for a script', 'ascend patients list --limit 1000 --json'),
  ],
  'patients show': [ex('Patient 2', 'ascend patients show 2')],
  'patients update': [ex('Record a blood group', 'ascend patients update 2 --blood-group A+')],
  'patients history': [ex('Patient 2’s appointments, newest first', 'ascend patients history 2')],
  slots: [ex('Free slots with cardiologists in Pune, tomorrow', 'ascend slots free --specialty cardiology --city Pune --from tomorrow --to tomorrow')],
  'slots create': [
    ex('One 30-minute slot, in the clinic’s time', 'ascend slots create --doctor 7 --start "2026-12-01 09:00" --length 30m'),
    ex('A group session for 8', 'ascend slots create --doctor 7 --start "2026-12-01 16:00" --end "2026-12-01 17:30" --capacity 8'),
  ],
  'slots generate': [
    ex('December from each doctor’s stored hours, for clinic 3', 'ascend slots generate --clinic 3 --from 2026-12-01 --to 2026-12-31'),
    ex(
      'An explicit schedule, with a lunch break; count first',
      'ascend slots generate --doctor 7,8 --from 2026-12-01 --to 2026-12-31 --days mon-fri --start 09:00 --end 17:00 --length 20m --break 12:00-13:00 --dry-run',
    ),
  ],
  'slots import': [
    ex('Check a CSV file (columns doctor,start,length,capacity); write nothing', 'ascend slots import slots.csv --dry-run'),
    ex('JSON from another program, on stdin', 'export-slots | ascend slots import - --format json'),
  ],
  'slots list': [ex('Doctor 7’s slots in December, deleted ones too', 'ascend slots list --doctor 7 --from 2026-12-01 --to 2026-12-31 --include-inactive')],
  'slots free': [
    ex('The next 14 days with cardiologists in Pune', 'ascend slots free --specialty cardiology --city Pune'),
    ex('Doctor 7 on one day', 'ascend slots free --doctor 7 --from 2026-12-01 --to 2026-12-01'),
  ],
  'slots show': [ex('Slot 42, with its bookings', 'ascend slots show 42')],
  'slots update': [
    ex('Make slot 42 a group of 4', 'ascend slots update 42 --capacity 4'),
    ex('Half an hour later, its bookings with it', 'ascend slots update 42 --start "2026-12-01 09:30" --move-bookings'),
  ],
  'slots restore': [ex('Bring back deleted slot 42, if it still fits', 'ascend slots restore 42')],
  'slots delete': [
    ex('Delete slot 42 (refused while booked)', 'ascend slots delete 42'),
    ex('Delete it, cancelling its bookings', 'ascend slots delete 42 --cancel-bookings'),
  ],
  appointments: [ex('What is coming for patient 2', 'ascend appointments list --patient 2')],
  'appointments book': [
    ex('Guided: specialty, city, day, slot (on a terminal)', 'ascend appointments book'),
    ex('Slot 42 for patient 2 (admins)', 'ascend appointments book --slot 42 --patient 2 --reason "check-up"'),
    ex('A longer visit: slot 42 and the two after it, as one appointment', 'ascend appointments book --slot 42 --slots 3'),
    ex('Safe to retry from a script', 'ascend appointments book --slot 42 --idempotency-key "$REQUEST_ID" --json'),
    ex('Slot 42 and the same time each week, 12 in all (all or nothing)', 'ascend appointments book --slot 42 --repeat weekly --count 12'),
    ex('Every two weeks until the end of June, booking what can be', 'ascend appointments book --slot 42 --repeat every-2-weeks --until 2026-06-30 --partial'),
  ],
  'appointments cancel': [
    ex('Cancel appointment 41, saying why', 'ascend appointments cancel 41 --reason "feeling better"'),
    ex('A doctor cancels their own (a reason is required)', 'ascend appointments cancel 41 --reason "called away to surgery"'),
    ex('Appointment 41 and every later one of its series', 'ascend appointments cancel 41 --series --yes'),
  ],
  'appointments reschedule': [
    ex('Move appointment 41 to slot 57', 'ascend appointments reschedule 41 --slot 57'),
    ex('Move 41 to slot 57 and each later occurrence of its series by as much', 'ascend appointments reschedule 41 --slot 57 --series'),
  ],
  'appointments complete': [ex('Appointment 41 took place', 'ascend appointments complete 41')],
  'appointments no-show': [ex('The patient of appointment 41 did not come', 'ascend appointments no-show 41')],
  'appointments note': [ex('The doctor’s notes on the visit', 'ascend appointments note 41 --text "BP 120/80; review in 3 months"')],
  'appointments list': [
    ex('Every one with José (or Jose) in a name, the reason or the notes', 'ascend appointments list --search jose --include-past'),
    ex('Doctor 7’s booked appointments in December', 'ascend appointments list --doctor 7 --status booked --from 2026-12-01 --to 2026-12-31'),
    ex('Patient 2’s appointments, for a script', 'ascend appointments list --patient 2 --json'),
    ex('The occurrences of series 5, past ones too', 'ascend appointments list --series 5 --include-past'),
  ],
  'appointments show': [ex('Appointment 41', 'ascend appointments show 41')],
  'appointments export': [
    ex('Your appointments, for a calendar program', 'ascend appointments export --ics > calendar.ics'),
    ex('Clinic 3’s bookings in December', 'ascend appointments export --clinic 3 --status booked --from 2026-12-01 --to 2026-12-31 --ics > dec.ics'),
  ],
  seed: [
    ex('Fixtures for CI, one password for every user the file gives none', 'ascend seed fixtures.yaml --password-stdin <<< "$SEED_PASSWORD"'),
    ex('YAML from another program, on stdin', 'make-fixtures | ascend seed -'),
  ],
  report: [ex('Utilisation of clinic 3 over December', 'ascend report utilisation --clinic 3 --from 2026-12-01 --to 2026-12-31')],
  'report utilisation': [
    ex('Clinic 3 over December', 'ascend report utilisation --clinic 3 --from 2026-12-01 --to 2026-12-31'),
    ex('Doctor 7, the default range (30 days back, 30 ahead), for a script', 'ascend report utilisation --doctor 7 --json'),
  ],
  worker: [
    ex('Run the worker (as a service; SIGTERM finishes the jobs in hand)', 'ascend worker'),
    ex('More jobs at once (any number of workers may run)', 'ascend worker --concurrency 16'),
    ex('Run what is due now, then exit (cron, CI)', 'ascend worker --once'),
  ],
  'worker status': [
    ex('Queue depth, failed jobs and undispatched events', 'ascend worker status'),
    ex('The same, for a script or a monitor', 'ascend worker status --json'),
  ],
  serve: [
    ex('The API on this machine only', 'ASCEND_JWT_SECRET=$(openssl rand -hex 32) ascend serve --port 8000'),
    ex('Without a secret, for local use', 'ascend serve --dev'),
    ex('Reachable from other machines, for one web app', 'ascend serve --host 0.0.0.0 --cors https://desk.example.org'),
    ex('Let visitors browse clinics, doctors and free slots unsigned', 'ascend serve --dev --public-directory'),
  ],
  completion: [
    ex('bash: load now, or add this line to ~/.bashrc', 'source <(ascend completion bash)'),
    ex('zsh: add this line to ~/.zshrc (after compinit)', 'source <(ascend completion zsh)'),
    ex('fish', 'ascend completion fish > ~/.config/fish/completions/ascend.fish'),
  ],
  __complete: [ex('What completing a clinic name offers (value, tab, what it is)', 'ascend __complete clinics Lak')],
  waitlist: [ex('Your entries, and any offer held for you', 'ascend waitlist list')],
  'waitlist join': [
    ex('Wait for a doctor in the next two weeks, mornings', 'ascend waitlist join --doctor 3 --from today --to +14d --times 08:00-12:00'),
    ex('Any ENT doctor, from Monday (admins: for a patient)', 'ascend waitlist join --patient 7 --specialty ENT --to +9d --from mon'),
  ],
  'waitlist list': [ex('Entries with an offer open, for a script', 'ascend waitlist list --status offered --json')],
  'waitlist leave': [ex('Leave entry 4 (an open offer goes to the next)', 'ascend waitlist leave 4')],
  'waitlist accept': [ex('Book the place offer 7 holds for you', 'ascend waitlist accept 7')],
  'waitlist decline': [ex('Pass offer 7 to the next in line', 'ascend waitlist decline 7')],
  webhooks: [ex('Every endpoint, and whether it is failing', 'ascend webhooks list')],
  'webhooks create': [
    ex('Every event to a URL (prints the secret, this once)', 'ascend webhooks create --url https://example.org/h'),
    ex('Bookings only (comma-separate more types)', 'ascend webhooks create --url https://example.org/h --events appointment.booked'),
    ex('One clinic’s events, for a script', 'ascend webhooks create --url https://example.org/h --clinic Pune --json'),
  ],
  'webhooks list': [ex('Every endpoint, for a script', 'ascend webhooks list --all --json')],
  'webhooks delete': [ex('Delete one without asking', 'ascend webhooks delete 3 --yes')],
  'webhooks test': [ex('Send a webhook.test event to endpoint 3', 'ascend webhooks test 3')],
  'webhooks deliveries': [
    ex('What was sent to endpoint 3, newest first', 'ascend webhooks deliveries 3'),
    ex('Only the failed ones', 'ascend webhooks deliveries 3 --failed'),
  ],
  'webhooks redeliver': [ex('Send delivery 41 again (same webhook-id)', 'ascend webhooks redeliver 41')],
};
