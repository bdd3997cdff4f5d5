import type { Pool } from '../ml/pool';
import type { PoolSource } from '../ml/pool/poolFetch';
import type { TaskModel } from '../ml/taskModel';

/**
 * The engine objects a store's actions work on: the open pool and the model consolidated from it.
 * They are not state (not serialisable, never rendered); each store created by createAppStore owns one.
 */
export interface EngineHandles {
  pool: Pool | null;
  model: TaskModel | null;
  /** Where the pool in use came from: its sample images are read from there on demand. */
  source: PoolSource | null;
}

/** Makes `pool` the one in use: frees the previous model and pool (the model first: it uses the pool's graph). */
export function swapPool(engine: EngineHandles, pool: Pool, source: PoolSource | null): void {
  engine.model?.dispose();
  engine.model = null;
  engine.pool?.dispose();
  engine.pool = pool;
  engine.source = source;
}
