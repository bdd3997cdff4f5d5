import { useEffect, useRef } from 'react';
import { useAppStore } from '../store';
import { PixelCanvas } from './SampleImage';

export function WebcamTest() {
  const on = useAppStore((s) => s.webcamOn);
  const error = useAppStore((s) => s.webcamError);
  const stream = useAppStore((s) => s.webcamStream);
  const cameras = useAppStore((s) => s.cameras);
  const cameraId = useAppStore((s) => s.cameraId);
  const top = useAppStore((s) => s.webcamTop);
  const fps = useAppStore((s) => s.webcamFps);
  const frames = useAppStore((s) => s.webcamFrames);
  const crop = useAppStore((s) => s.webcamCrop);
  const size = useAppStore((s) => s.manifest?.input.sizePx ?? 32);
  const hasModel = useAppStore((s) => s.model !== null);
  const { startWebcam, stopWebcam } = useAppStore((s) => s);
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (video.current) video.current.srcObject = stream;
  }, [stream]);
  useEffect(() => stopWebcam, [stopWebcam]); // unmounting the panel releases the camera
  return (
    <section className="panel webcam" aria-label="Webcam test">
      <h2>Test on your webcam</h2>
      <div className="webcam-tools">
        {on ? <button type="button" onClick={stopWebcam}>Stop camera</button>
          : <button type="button" onClick={() => void startWebcam()} data-testid="webcam-start">{error ? 'Retry camera' : 'Start camera'}</button>}
        {cameras.length > 1 && (
          <select aria-label="Camera" value={cameraId ?? ''} onChange={(e) => void startWebcam(e.target.value)}>
            {cameras.map((c) => <option key={c.deviceId} value={c.deviceId}>{c.label}</option>)}
          </select>
        )}
        {on && <span data-testid="webcam-fps" data-frames={frames}>{fps} frames/s</span>}
      </div>
      {error && <p className="error" role="alert" data-testid="webcam-error">{error}</p>}
      {on && !hasModel && <p className="notice">Select classes to see predictions.</p>}
      {on && (
        <div className="webcam-view">
          <div className="preview">
            <video ref={video} autoPlay muted playsInline className="mirrored" />
            <div className="crop-box" title="The square the model sees" />
          </div>
          <div>
            {crop && <PixelCanvas rgb={crop} size={size} displayPx={96} title="What the model sees" mirrored />}
            <ol className="bars" data-testid="webcam-top">
              {top.map((p) => (
                <li key={p.label}>
                  <span className="bar-label">{p.label}</span>
                  <span className="bar"><span style={{ width: `${100 * p.probability}%` }} /></span>
                  <span className="bar-value">{(100 * p.probability).toFixed(0)} %</span>
                </li>
              ))}
            </ol>
          </div>
        </div>
      )}
    </section>
  );
}
