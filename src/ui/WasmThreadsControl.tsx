import { useAppStore } from '../store';
import { WASM_THREAD_SETTINGS, type WasmThreadSetting } from '../ml/run/wasmThreads';

/** On wasm: the worker threads in use, how they were chosen, and the setting. */
export function WasmThreadsControl() {
  const wasm = useAppStore((s) => s.backend?.wasm);
  const preferred = useAppStore((s) => s.preferredWasmThreads);
  const setWasmThreads = useAppStore((s) => s.setWasmThreads);
  if (!wasm) return null;
  const probe = wasm.probe?.map((p) => `${p.threads} thread${p.threads > 1 ? 's' : ''} ${p.ms.toFixed(1)} ms`).join(', ');
  return (
    <div className="wasm-threads">
      <label>
        Threads{' '}
        <select value={String(preferred)} aria-label="WASM threads" disabled={wasm.max === 1}
          onChange={(e) => void setWasmThreads((e.target.value === 'auto' ? 'auto' : Number(e.target.value)) as WasmThreadSetting)}>
          {WASM_THREAD_SETTINGS.filter((t) => t === 'auto' || t <= wasm.max).map((t) => <option key={t} value={String(t)}>{t}</option>)}
        </select>
      </label>{' '}
      <span data-testid="wasm-threads" data-threads={wasm.threads}>
        {wasm.threads} thread{wasm.threads > 1 ? 's' : ''} in use
        {probe ? ` (measured at start-up on a warm batch: ${probe})` : ''}
        {wasm.limit ? `: ${wasm.limit}` : ''}
      </span>
    </div>
  );
}
