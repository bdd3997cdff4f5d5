import { useAppStore } from '../store';
import { ProgressBar, formatBytes } from './ProgressBar';
import { BuiltinPools } from './BuiltinPools';
import { PoolOpener } from './PoolOpener';

export function PoolPanel() {
  const status = useAppStore((s) => s.poolStatus);
  const progress = useAppStore((s) => s.poolProgress);
  const manifest = useAppStore((s) => s.manifest);
  const bytes = useAppStore((s) => s.poolBytes);
  const source = useAppStore((s) => s.poolSource);
  const loadMs = useAppStore((s) => s.poolLoadMs);
  const error = useAppStore((s) => s.poolError);
  const notice = useAppStore((s) => s.poolNotice);
  const reload = useAppStore((s) => s.clearCacheAndReload);
  const metrics = manifest?.metrics as PoolMetrics | undefined;
  const oracleTop1 = metrics?.oracle?.test_top1;
  return (
    <section className="panel pool" aria-label="Expert pool" data-status={status}>
      <h2>Expert pool</h2>
      <BuiltinPools />
      {status === 'downloading' && progress.map((p) => <ProgressBar key={p.path} label={p.path} value={p.loaded} max={p.total} />)}
      {status === 'loading' && <p>Loading the pool…</p>}
      {manifest && (
        <p className="pool-info">
          <strong>{manifest.name}</strong> v{manifest.version}: {manifest.classes.length} classes, {manifest.experts.length} experts,{' '}
          {formatBytes(bytes)}
          {oracleTop1 !== undefined && <>, oracle top-1 {(100 * oracleTop1).toFixed(1)} %</>}. Loaded from{' '}
          <span data-testid="pool-source" data-load-ms={loadMs}>{source === 'cache' ? 'this browser’s storage' : 'the network'}</span> in {loadMs.toFixed(0)} ms.{' '}
          <button type="button" onClick={() => void reload()}>Clear cache and re-download</button>
        </p>
      )}
      {metrics?.oracle && (
        <p className="pool-metrics">
          Built {String(manifest?.provenance?.builtAt ?? '').slice(0, 10)} from a {metrics.oracle.arch} oracle
          {metrics.library?.student_test_top1 !== undefined && <>; library student {(100 * metrics.library.student_test_top1).toFixed(1)} % top-1</>}
          {metrics.stageWallSeconds && <>; build time {Object.entries(metrics.stageWallSeconds).map(([k, v]) => `${k} ${Math.round(v / 60)} min`).join(', ')}</>}
          {metrics.machine && <> on {metrics.machine}</>}.
        </p>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {notice && <p className="notice" role="status">{notice}</p>}
      <PoolOpener />
    </section>
  );
}

interface PoolMetrics {
  oracle?: { arch: string; test_top1?: number };
  library?: { student_test_top1?: number };
  stageWallSeconds?: Record<string, number>;
  machine?: string;
}
