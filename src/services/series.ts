// Recurring series of appointments: booked together (./series/book.ts), cancelled or moved from one occurrence
// on (./series/change.ts). Each occurrence is an ordinary appointment naming its series (appointment.series_id).
export { bookSeries } from './series/book.js';
export { cancelSeries, rescheduleSeries } from './series/change.js';
