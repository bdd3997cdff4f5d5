import { useAppStore } from '../store';

/** The pools the app ships, one radio button each; the choice is remembered, and each keeps its own selection. */
export function BuiltinPools() {
  const pools = useAppStore((s) => s.builtinPools);
  const poolId = useAppStore((s) => s.poolId);
  const origin = useAppStore((s) => s.poolOrigin);
  const status = useAppStore((s) => s.poolStatus);
  const choose = useAppStore((s) => s.chooseBuiltinPool);
  if (pools.length < 2) return null;
  const busy = status === 'loading' || status === 'downloading';
  return (
    <fieldset className="builtin-pools" data-testid="builtin-pools" disabled={busy}>
      <legend>Built-in pools</legend>
      {pools.map((p) => (
        <label key={p.id} className={p.id === poolId && !origin ? 'chosen' : undefined}>
          <input type="radio" name="builtin-pool" value={p.id} checked={p.id === poolId && !origin} onChange={() => void choose(p.id)} />
          <span><strong>{p.title}</strong> <small>{p.about}</small></span>
        </label>
      ))}
    </fieldset>
  );
}
