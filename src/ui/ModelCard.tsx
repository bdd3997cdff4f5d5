import { BACKEND_ORDER, type BackendName } from '../ml/run/backend';
import { useAppStore } from '../store';
import { DeviceCheck } from './DeviceCheck';
import { UnknownControl } from './UnknownControl';
import { WasmThreadsControl } from './WasmThreadsControl';
import { formatBytes } from './ProgressBar';

export function ModelCard() {
  const model = useAppStore((s) => s.model);
  const memory = useAppStore((s) => s.memory);
  const error = useAppStore((s) => s.modelError);
  const backend = useAppStore((s) => s.backend);
  const backendError = useAppStore((s) => s.backendError);
  const preferred = useAppStore((s) => s.preferredBackend);
  const setBackend = useAppStore((s) => s.setBackend);
  return (
    <section className="panel model" aria-label="Consolidated model">
      <h2>Your model</h2>
      {!model && !error && <p>Select classes or superclasses to build a model.</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {model && (
        <dl className="card" data-testid="model-card">
          <dt>Classes</dt><dd data-testid="model-classes">{model.labels.length}</dd>
          <dt>Experts used</dt><dd>{model.experts.map((e) => (e.whole ? e.name : `${e.name} (${e.classes})`)).join(', ')}</dd>
          <dt>Parameters</dt><dd>{model.params.toLocaleString('en-US')}</dd>
          <dt>Size</dt><dd>{formatBytes(model.bytes)} (float32)</dd>
          {memory && <><dt>Memory</dt><dd data-testid="memory" data-tensors={memory.tensors} data-bytes={memory.bytes}>{memory.tensors} tensors, {formatBytes(memory.bytes)} held by TF.js</dd></>}
          <dt>Built in</dt><dd data-testid="build-ms">{model.buildMs.toFixed(1)} ms, compiled in {model.compileMs.toFixed(1)} ms (ready after first prediction: {model.readyMs.toFixed(1)} ms)</dd>
        </dl>
      )}
      <UnknownControl />
      <div className="backend">
        <label>
          Backend{' '}
          <select value={preferred} onChange={(e) => void setBackend(e.target.value as BackendName | 'auto')} aria-label="Backend">
            <option value="auto">auto</option>
            {BACKEND_ORDER.map((b) => <option key={b} value={b}>{b}</option>)}
          </select>
        </label>{' '}
        {backend && <span>active: <strong data-testid="backend">{backend.active}</strong></span>}
        <WasmThreadsControl />
        {backend?.skipped.map((s) => <p key={s.name} className="notice">{s.name} is not used: {s.reason}.</p>)}
        {backendError && <p className="error" role="alert">{backendError}</p>}
        <DeviceCheck />
      </div>
    </section>
  );
}
