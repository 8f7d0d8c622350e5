export type { QueueLocation } from "./queue-db.js";
export {
  type EnqueueRunOptions,
  type QueueLimits,
  type QueueStatus,
  RunQueue,
  type RunQueueOptions,
  WORKER_QUEUE_KEY,
} from "./run-queue.js";
export { LEASE_EXPIRED, Worker, type WorkerOptions, type WorkerStopOptions } from "./worker.js";
