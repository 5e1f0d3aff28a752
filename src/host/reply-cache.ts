// Replies of `pure` entity commands, kept on the main thread until the entity
// is written again (docs/host.md "Reply cache"). A command declared pure
// promises that its reply depends only on the entity's state, the command's
// body and the entity id, and that it changes nothing; so while no write to
// the entity is submitted, the same call has the same reply, and the main
// thread can give it without a round trip to the entity's worker.
//
// The Runtime keeps it exact:
//  - a placeholder is filed before the command is sent to the worker, and
//    only when no write to the entity is waiting for its commit (the worker's
//    state would include it before it is durable);
//  - every write to the entity drops its entries and placeholders when it is
//    submitted, before its commit, so the reply of a read the worker ran
//    before the write is kept only until then, and nothing read after it is
//    kept before it is durable;
//  - a reload clears everything (new code, new replies).

import type { CacheStats } from "./metrics.js";

/** The default budget of `--reply-cache-mb`. */
export const REPLY_CACHE_DEFAULT_MB = 32;

/** Bookkeeping per entry, counted against the budget. */
const ENTRY_OVERHEAD_BYTES = 256;
/** Bodies longer than this (as JSON) are not cached. */
const BODY_KEY_MAX = 1024;

/** A kept reply, or the placeholder of one being computed (filled false). */
export class ReplySlot {
  filled = false;
  /**
   * The reply as JSON, when JSON gives it back exactly (plain data: objects,
   * arrays, strings, finite numbers, booleans, null) — what the HTTP layer
   * sends as is. Otherwise undefined, and the value itself is kept.
   */
  json: string | undefined = undefined;
  #value: unknown = undefined;
  bytes: number;
  /** Hit since the eviction sweep last passed it (second chance). */
  used = false;
  constructor(
    readonly entity: string,
    readonly command: string,
    readonly bodyKey: string,
  ) {
    this.bytes = entity.length + command.length + bodyKey.length + ENTRY_OVERHEAD_BYTES;
  }

  /** The reply; kept as JSON, it is a fresh copy each time (no caller sees another's changes). */
  get value(): unknown {
    return this.json !== undefined ? JSON.parse(this.json) : this.#value;
  }

  set value(v: unknown) {
    this.#value = v;
  }
}

/**
 * `value` as JSON if parsing that JSON gives back an equal value, null if it
 * would not (a Date, a Map, undefined, NaN, a class instance: structured
 * clone keeps them, JSON does not); throws what JSON.stringify throws.
 */
export function exactJson(value: unknown): string | null {
  let exact = true;
  const json = JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown): unknown {
    if (!exact) return undefined;
    const own = this[key]; // before toJSON (a Date's replacer value is already a string)
    switch (typeof own) {
      case "string":
      case "boolean":
        break;
      case "number":
        if (!Number.isFinite(own) || Object.is(own, -0)) exact = false;
        break;
      case "object":
        if (own !== null && !Array.isArray(own)) {
          const proto = Object.getPrototypeOf(own) as unknown;
          if (proto !== Object.prototype && proto !== null) exact = false;
        }
        break;
      default: // undefined, function, symbol, bigint
        exact = false;
    }
    return exact ? v : undefined;
  }) as string | undefined;
  return exact && json !== undefined ? json : null;
}

/** The CacheStats of /_calyx/metrics, and how many replies were kept. */
export type ReplyCacheStats = CacheStats & { readonly stores: number };

export class ReplyCache {
  readonly #maxBytes: number;
  readonly #entryBytesMax: number;
  /** Every slot, oldest first; a hit only marks its slot used, the eviction sweep gives used ones a second chance. */
  readonly #order = new Set<ReplySlot>();
  /** Entity → its slots (one per command and body: a short list). */
  readonly #byEntity = new Map<string, ReplySlot[]>();
  #bytes = 0;
  readonly #stats = { hits: 0, misses: 0, stores: 0, invalidations: 0, evictions: 0 };

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
    this.#entryBytesMax = Math.floor(maxBytes / 16);
  }

  /**
   * The slot of this call: filled (a hit: its value is the reply), or a new
   * or pending placeholder to fill() with the reply; undefined when the call
   * is not cacheable (a body too large to key).
   */
  lookup(entity: string, command: string, body: unknown): ReplySlot | undefined {
    let bodyKey: string;
    if (body === undefined) bodyKey = "";
    else {
      try {
        bodyKey = JSON.stringify(body);
      } catch {
        return undefined;
      }
      if (bodyKey === undefined || bodyKey.length > BODY_KEY_MAX) return undefined;
    }
    const list = this.#byEntity.get(entity);
    if (list !== undefined) {
      for (const slot of list) {
        if (slot.command !== command || slot.bodyKey !== bodyKey) continue;
        if (slot.filled) {
          this.#stats.hits++;
          slot.used = true;
        } else this.#stats.misses++;
        return slot;
      }
    }
    this.#stats.misses++;
    const fresh = new ReplySlot(entity, command, bodyKey);
    this.#order.add(fresh);
    if (list === undefined) this.#byEntity.set(entity, [fresh]);
    else list.push(fresh);
    this.#bytes += fresh.bytes;
    this.#evict();
    return fresh;
  }

  /**
   * The kept reply of a call without a body, as JSON; or undefined (none kept,
   * or one JSON cannot give back) — then nothing is counted or filed, and the
   * caller goes on to `lookup`.
   */
  hitJson(entity: string, command: string): string | undefined {
    const list = this.#byEntity.get(entity);
    if (list === undefined) return undefined;
    for (const slot of list) {
      if (slot.command !== command || slot.bodyKey !== "" || slot.json === undefined) continue;
      this.#stats.hits++;
      slot.used = true;
      return slot.json;
    }
    return undefined;
  }

  /** Keeps `value` as the reply of the slot's call, unless a write or a reload dropped the slot meanwhile. */
  fill(slot: ReplySlot, value: unknown): void {
    if (!this.#order.has(slot) || slot.filled) return;
    let json: string | null;
    let size: number;
    try {
      json = exactJson(value);
      size = json !== null ? json.length : (JSON.stringify(value)?.length ?? 0);
    } catch {
      this.#remove(slot);
      return;
    }
    if (size > this.#entryBytesMax) {
      this.#remove(slot);
      return;
    }
    slot.filled = true;
    if (json !== null) slot.json = json;
    else slot.value = value;
    slot.bytes += size;
    this.#bytes += size;
    this.#stats.stores++;
    this.#evict();
  }

  /** The call failed or wrote: its placeholder goes. */
  abandon(slot: ReplySlot): void {
    if (this.#order.has(slot) && !slot.filled) this.#remove(slot);
  }

  /** A write to this entity was submitted: everything kept for it goes. */
  dropEntity(entity: string): void {
    const list = this.#byEntity.get(entity);
    if (list === undefined) return;
    for (const slot of [...list]) {
      this.#stats.invalidations++;
      this.#remove(slot);
    }
  }

  clear(): void {
    this.#order.clear();
    this.#byEntity.clear();
    this.#bytes = 0;
  }

  stats(): ReplyCacheStats {
    return { ...this.#stats, entries: this.#order.size, bytes: this.#bytes };
  }

  #evict(): void {
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#order.values().next();
      if (oldest.done === true) break;
      const slot = oldest.value;
      if (slot.used) {
        // Hit since the sweep last passed: moves to the young end, once.
        slot.used = false;
        this.#order.delete(slot);
        this.#order.add(slot);
        continue;
      }
      this.#stats.evictions++;
      this.#remove(slot);
    }
  }

  #remove(slot: ReplySlot): void {
    this.#order.delete(slot);
    this.#bytes -= slot.bytes;
    const list = this.#byEntity.get(slot.entity);
    if (list === undefined) return;
    const i = list.indexOf(slot);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byEntity.delete(slot.entity);
  }
}
