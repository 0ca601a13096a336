// Appointment slots: what the rest of ascend calls. Each concern has its own file in ./slots/:
//   read.ts      getSlot, listSlots, and the zone date filters are read in
//   free.ts      freeSlots, the search for bookable slots (its SQL: ./sql/free-slots.ts)
//   plan.ts      the doctors a run is for, and sorting candidate slots into written and skipped (and why)
//   write.ts     writing planned slots in bulk (its SQL: ./sql/slots-bulk.ts), and what a run reports
//   create.ts    createSlot, one slot
//   generate.ts  generateSlots, from a schedule or stored hours
//   import.ts    importSlots, from a file's or a request's rows (schema: ../domain/schemas/slots.ts)
//   delete.ts    deleteSlot
//   update.ts    updateSlot: times (moving its bookings) and capacity; who may change a slot
//   restore.ts   restoreSlot, a deleted slot back where it still fits
export { createSlot } from './slots/create.js';
export { deleteSlot } from './slots/delete.js';
export { freeSlots } from './slots/free.js';
export { generateSlots } from './slots/generate.js';
export { importSlots, type ImportOptions } from './slots/import.js';
export { getSlot, listSlots } from './slots/read.js';
export { restoreSlot } from './slots/restore.js';
export { updateSlot } from './slots/update.js';
export type { GenerateOptions } from './slots/write.js';
