// The emails of appointment events, from the outbox to the patient's inbox.
//
// 1. Fan-out (queueMails, in the dispatch transaction of the outbox, src/worker/mail.ts): each mailed event of
//    an appointment whose patient has an email becomes one mail_message row and a `mail.send` job, committed
//    with the event's "dispatched" mark: neither exists without the other. Only when mail is configured.
// 2. Sending (sendQueuedMail, the `mail.send` job): the row is taken under a lease (one worker sends it, a
//    worker that dies mid-send leaves it to be taken again once the lease ends), composed from the event's
//    appointment (so a retry sends the same message), sent, and marked sent; a failure is tried again later,
//    each time after a longer pause, then marked failed.
// 3. Retrying (queueDueRetries, the tick): rows whose next attempt is due get their job again.
// Every time is the services' clock's (the worker's), never the database's.
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { MailUnavailableError } from '../../domain/errors.js';
import { appointmentViewSchema } from '../../domain/schemas/views.js';
import { addJob } from '../../worker/jobs.js';
import type { ServiceContext } from '../context.js';
import type { OutboxEvent } from '../outbox.js';
import { query } from '../support.js';
import {
  appointmentMail,
  isMailedEvent,
  MAILED_EVENTS,
  type MailKind,
  mailSubject,
  OFFER_EVENT,
  offerMail,
  offerSubject,
  SEQUENCE_EVENTS,
} from './messages.js';
import type { Mailer, MailConfig, OutgoingMail } from './transport.js';

export const SEND_TASK = 'mail.send';
/** How long a sender holds a message: past the transport's timeouts (three steps of 10 s), with room to spare. */
export const LEASE_MS = 5 * 60_000;
/** Attempts before a message is failed, and the pause after the first failure (then 4x longer each time: 1m, 4m, 16m, 64m, 256m). */
export const MAX_ATTEMPTS = 6;
const FIRST_RETRY_MS = 60_000;
/** Rows the retry scan queues per tick at most (the rest at the next). */
const RETRY_BATCH = 1000;

/** The pause after failed attempt `attempts` (1-based). */
export const retryDelayMs = (attempts: number): number => FIRST_RETRY_MS * 4 ** (attempts - 1);

/** One job per message: a retry queued while one waits replaces it instead of adding another. */
const jobKey = (id: string) => `mail:${id}`;

const sendPayload = z.object({ id: z.union([z.string().regex(/^\d+$/), z.int().positive()]).transform(String) });

/**
 * Queues the email of every mailed event among `events` (in the caller's dispatch transaction): the patient's
 * address is read now, the message composed when sent. An event mailed before (a dispatch that ran again) is
 * not queued twice. Returns how many were queued.
 */
export async function queueMails(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<number> {
  const offers = await queueOfferMails(tx, events);
  const mailed = events.filter((e) => isMailedEvent(e.type) && e.appointmentId !== null);
  if (!mailed.length) return offers;
  const rows = await query<{ id: string }>(
    tx.em,
    `insert into mail_message (event_seq, kind, to_address, subject, next_attempt_at, created_at)
     select e.seq, e.kind, u.email, e.subject, ?, ?
       from jsonb_to_recordset(?::jsonb) as e(seq bigint, kind text, appointment_id integer, subject text)
       join appointment a on a.id = e.appointment_id
       join patient p on p.id = a.patient_id
       join "user" u on u.id = p.user_id
      where u.email is not null
     on conflict (event_seq, kind) do nothing
     returning id::text`,
    [
      tx.clock.now(),
      tx.clock.now(),
      JSON.stringify(
        mailed.map((e) => {
          const kind = MAILED_EVENTS[e.type as keyof typeof MAILED_EVENTS];
          const appointment = appointmentOf(e.data);
          return { seq: e.seq, kind, appointment_id: e.appointmentId, subject: mailSubject(kind, appointment, appointment.remindBefore) };
        }),
      ),
    ],
  );
  for (const row of rows) await addJob(tx.em, SEND_TASK, { id: row.id }, { jobKey: jobKey(row.id) });
  return rows.length + offers;
}

/** An offer (waitlist.offered) as its event carries it: the patient it is for, and what the email says. */
const eventOffer = z.looseObject({
  id: z.int(),
  patientId: z.int(),
  patientName: z.string(),
  doctorName: z.string(),
  clinicName: z.string(),
  timezone: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  expiresAt: z.string(),
});

/** The offers' emails: one to each offered patient with an email (their place is held until the offer expires). */
async function queueOfferMails(tx: ServiceContext, events: readonly OutboxEvent[]): Promise<number> {
  const offers = events.filter((e) => e.type === OFFER_EVENT).map((e) => ({ seq: e.seq, offer: eventOffer.parse(e.data) }));
  if (!offers.length) return 0;
  const rows = await query<{ id: string }>(
    tx.em,
    `insert into mail_message (event_seq, kind, to_address, subject, next_attempt_at, created_at)
     select e.seq, 'offer', u.email, e.subject, ?, ?
       from jsonb_to_recordset(?::jsonb) as e(seq bigint, patient_id integer, subject text)
       join patient p on p.id = e.patient_id
       join "user" u on u.id = p.user_id
      where u.email is not null
     on conflict (event_seq, kind) do nothing
     returning id::text`,
    [tx.clock.now(), tx.clock.now(), JSON.stringify(offers.map(({ seq, offer }) => ({ seq, patient_id: offer.patientId, subject: offerSubject(offer) })))],
  );
  for (const row of rows) await addJob(tx.em, SEND_TASK, { id: row.id }, { jobKey: jobKey(row.id) });
  return rows.length;
}

/** The event's appointment, as ascend_appointment_json wrote it (a reminder's with `remindBefore`). */
// An event written before recurring series (Migration20261204020000_series) has no seriesId: it had none.
const eventAppointment = appointmentViewSchema.extend({ remindBefore: z.string().optional(), seriesId: appointmentViewSchema.shape.seriesId.default(null) });
type EventAppointment = z.output<typeof eventAppointment>;
const appointmentOf = (data: unknown): EventAppointment => eventAppointment.parse(data);

interface TakenMail {
  id: string;
  kind: MailKind | 'offer';
  to_address: string;
  attempts: number;
  event_seq: string;
  event_at: Date | string;
  data: unknown;
  sequence: number;
}

export type SendOutcome = 'sent' | 'retry' | 'failed' | 'not-due';

/**
 * The `mail.send` job: takes message `payload.id` under a lease when it is pending, due and not held by
 * another sender (else does nothing: it was sent, or another worker has it, or its retry is not due yet),
 * sends it and marks it. A refused or unreachable server is a retry (or, after MAX_ATTEMPTS, failed), not a
 * failed job.
 */
export async function sendQueuedMail(ctx: ServiceContext, payload: unknown, mailer: Mailer, config: MailConfig): Promise<SendOutcome> {
  const { id } = sendPayload.parse(payload);
  const now = ctx.clock.now();
  // Its own statement (committed at once), so the lease is seen by every other sender before the send starts.
  const [mail] = await query<TakenMail>(
    ctx.em,
    `with taken as (
       update mail_message set attempts = attempts + 1, lease_until = ?
        where id = ? and status = 'pending' and next_attempt_at <= ? and (lease_until is null or lease_until <= ?)
       returning id, kind, to_address, attempts, event_seq)
     select t.id::text, t.kind, t.to_address, t.attempts, t.event_seq::text, e.at as event_at, e.data,
            (select count(*)::int from outbox_event c
              where c.appointment_id = e.appointment_id and c.seq <= e.seq and c.type = any(?::text[])) as sequence
       from taken t join outbox_event e on e.seq = t.event_seq`,
    [new Date(now.getTime() + LEASE_MS), id, now, now, `{${SEQUENCE_EVENTS.join(',')}}`],
  );
  if (!mail) return 'not-due';
  try {
    await mailer.send(composed(mail, config));
  } catch (err) {
    if (!(err instanceof MailUnavailableError)) throw err;
    const failed = mail.attempts >= MAX_ATTEMPTS;
    await query(ctx.em, `update mail_message set status = ?, lease_until = null, last_error = ?, next_attempt_at = ? where id = ? and status = 'pending'`, [
      failed ? 'failed' : 'pending',
      err.message,
      new Date(now.getTime() + retryDelayMs(mail.attempts)),
      mail.id,
    ]);
    return failed ? 'failed' : 'retry';
  }
  await query(ctx.em, `update mail_message set status = 'sent', sent_at = ?, lease_until = null, last_error = null where id = ? and status = 'pending'`, [
    now,
    mail.id,
  ]);
  return 'sent';
}

/** The message of a taken row, from its event (so a retry sends the same message). */
function composed(mail: TakenMail, config: MailConfig): OutgoingMail {
  if (mail.kind === 'offer') return offerMail(eventOffer.parse(mail.data), mail.to_address);
  const appointment = appointmentOf(mail.data);
  return appointmentMail(
    { kind: mail.kind, appointment, remindBefore: appointment.remindBefore, sequence: mail.sequence, to: mail.to_address, now: new Date(mail.event_at) },
    config,
  );
}

/**
 * The tick's part: messages whose next attempt is due (a retry after a failure, or one whose sender died
 * holding its lease) get their `mail.send` job again. Returns how many.
 */
export async function queueDueRetries(ctx: ServiceContext): Promise<number> {
  const now = ctx.clock.now();
  const due = await query<{ id: string }>(
    ctx.em,
    `select id::text from mail_message
      where status = 'pending' and next_attempt_at <= ? and (lease_until is null or lease_until <= ?)
      order by next_attempt_at limit ?`,
    [now, now, RETRY_BATCH],
  );
  for (const row of due) await addJob(ctx.em, SEND_TASK, { id: row.id }, { jobKey: jobKey(row.id) });
  return due.length;
}

/** The mail's figures for `worker status`. */
export async function mailStatus(em: EntityManager): Promise<Record<string, number | string | null>> {
  const [row] = await query<{ pending: number; failed: number; sent: number; oldest: Date | string | null }>(
    em,
    `select count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'failed')::int as failed,
            count(*) filter (where status = 'sent')::int as sent, min(created_at) filter (where status = 'pending') as oldest
       from mail_message`,
  );
  return {
    mailPending: row?.pending ?? 0,
    mailFailed: row?.failed ?? 0,
    mailSent: row?.sent ?? 0,
    oldestPendingMailAt: row?.oldest ? new Date(row.oldest).toISOString() : null,
  };
}
