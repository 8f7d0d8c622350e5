export {
  type ApiApp,
  type ApiAppOptions,
  createApiApp,
  type RequestLogEntry,
  type ShutdownOptions,
  type StaticMount,
} from "./app.js";
export { checkListenSecurity, isLoopbackHost, type ListenSecurity } from "./auth.js";
export {
  type ApiErrorBody,
  type ApiErrorCode,
  errorResponse,
  HTTP_STATUS_BY_CODE,
  type HttpOnlyErrorCode,
  httpStatusOf,
} from "./errors-to-http.js";
export { openApiDocument } from "./openapi.js";
export { type ApiServerOptions, type RunningApiServer, startApiServer } from "./serve.js";
export { type EventStreamOptions, EventStreams, sseFrame } from "./sse.js";
