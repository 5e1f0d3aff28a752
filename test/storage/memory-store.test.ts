import t from "tap";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { storeContract } from "./store.contract.js";

storeContract(t, (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  return store;
});
