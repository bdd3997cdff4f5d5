import { useEffect, useState } from 'react';
import { useAppStore } from '../store';
import { WebcamView } from './WebcamView';

export function WebcamTest() {
  const on = useAppStore((s) => s.webcamOn);
  const error = useAppStore((s) => s.webcamError);
  const cameras = useAppStore((s) => s.cameras);
  const cameraId = useAppStore((s) => s.cameraId);
  const awake = useAppStore((s) => s.webcamAwake);
  const hasModel = useAppStore((s) => s.model !== null);
  const startWebcam = useAppStore((s) => s.startWebcam);
  const switchCamera = useAppStore((s) => s.switchCamera);
  const stopWebcam = useAppStore((s) => s.stopWebcam);
  const [full, setFull] = useState(false);
  useEffect(() => stopWebcam, [stopWebcam]); // unmounting the panel releases the camera
  useEffect(() => {
    if (!on) setFull(false);
  }, [on]);
  return (
    <section className="panel webcam" aria-label="Webcam test">
      <h2>Test on your webcam</h2>
      <div className="webcam-tools">
        {on ? <button type="button" onClick={stopWebcam} data-testid="webcam-stop">Stop camera</button>
          : <button type="button" onClick={() => void startWebcam()} data-testid="webcam-start">{error ? 'Retry camera' : 'Start camera'}</button>}
        {on && cameras.length > 1 && <button type="button" onClick={() => void switchCamera()} data-testid="webcam-switch">Switch camera</button>}
        {on && <button type="button" onClick={() => setFull(true)} data-testid="webcam-full">Full screen</button>}
        {cameras.length > 1 && (
          <select aria-label="Camera" value={cameraId ?? ''} onChange={(e) => void startWebcam(e.target.value)}>
            {cameras.map((c) => <option key={c.deviceId} value={c.deviceId}>{c.label}</option>)}
          </select>
        )}
        {on && awake && <span className="notice-quiet" data-testid="wake-lock">Screen kept on</span>}
      </div>
      {error && <p className="error" role="alert" data-testid="webcam-error">{error}</p>}
      {on && !hasModel && <p className="notice">Select classes to see predictions.</p>}
      {on && <WebcamView full={full} setFull={setFull} />}
    </section>
  );
}
