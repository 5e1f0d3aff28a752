// The `calyx` module users import. It imports nothing of the runtime, so user
// code and its types never drag the engine along.
export {
  keyValueEntity, eventSourcedEntity, view, endpoint, CallError, COMPONENT, DELETE_ROW,
  type EventUpdater, type EventUpdaterContext,
  type Endpoint, type EndpointContext, type EndpointRequest, type EndpointHandler, type EntityClient,
  type KeyValueEntity, type EventSourcedEntity, type KeyValueCommand, type EventSourcedCommand,
  type KeyValueContext, type EventSourcedContext, type RequestInfo, type View, type ViewQuery, type ViewRow,
} from "./components.js";
export type { Effect, UpdateBuilder, PersistBuilder } from "./effects.js";
