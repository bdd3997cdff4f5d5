import { useState } from 'react';
import { useAppStore } from '../store';

/** The pools the app ships, one radio button each; the choice is remembered, and each keeps its own selection. */
export function BuiltinPools() {
  const pools = useAppStore((s) => s.builtinPools);
  const poolId = useAppStore((s) => s.poolId);
  const origin = useAppStore((s) => s.poolOrigin);
  const status = useAppStore((s) => s.poolStatus);
  const choose = useAppStore((s) => s.chooseBuiltinPool);
  const [pending, setPending] = useState<string | null>(null);
  if (pools.length < 2) return null;
  const busy = status === 'loading' || status === 'downloading';
  const chosen = pending ?? (origin ? null : poolId);
  const pick = (id: string) => {
    setPending(id);
    void choose(id).finally(() => setPending(null));
  };
  return (
    <fieldset className="builtin-pools" data-testid="builtin-pools" disabled={busy}>
      <legend>Built-in pools</legend>
      {pools.map((p) => (
        <label key={p.id} className={p.id === chosen ? 'chosen' : undefined}>
          <input type="radio" name="builtin-pool" value={p.id} checked={p.id === chosen} onChange={() => pick(p.id)} />
          <span><strong>{p.title}</strong> <small>{p.about}</small></span>
        </label>
      ))}
    </fieldset>
  );
}
