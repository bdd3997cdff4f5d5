import { BUILD_ID } from '../buildInfo';
import { applyAppUpdate } from '../io/offline';
import { useAppStore } from '../store';

/** The build in use, and a bar when a newer one is installed: reloading switches app and pool checks together. */
export function AppUpdate() {
  const ready = useAppStore((s) => s.appUpdateReady);
  return (
    <footer className="app-footer">
      {ready && (
        <p className="app-update" role="status" data-testid="app-update">
          A new version of PoE Studio is ready.{' '}
          <button type="button" onClick={() => void applyAppUpdate()}>Reload to update</button>
        </p>
      )}
      <p className="notice-quiet">Build <span data-testid="build-id">{BUILD_ID}</span></p>
    </footer>
  );
}
