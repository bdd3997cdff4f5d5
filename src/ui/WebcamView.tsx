import { useEffect, useRef, type RefObject } from 'react';
import { useAppStore } from '../store';
import { PixelCanvas } from './SampleImage';
import { TopBars } from './TopBars';

/**
 * The live view: the centre square of the camera (exactly what the model sees, for portrait and
 * landscape video alike) with the top-5. Full screen puts the square over the whole screen with the
 * predictions on top of it.
 */
export function WebcamView({ full, setFull }: { full: boolean; setFull: (full: boolean) => void }) {
  const webcamSession = useAppStore((s) => s.webcamSession);
  const webcamStream = useAppStore((s) => s.webcamStream);
  const top = useAppStore((s) => s.webcamTop);
  const verdict = useAppStore((s) => s.webcamKnown);
  const fps = useAppStore((s) => s.webcamFps);
  const frames = useAppStore((s) => s.webcamFrames);
  const crop = useAppStore((s) => s.webcamCrop);
  const mirrored = useAppStore((s) => s.webcamMirrored);
  const size = useAppStore((s) => s.manifest?.input.sizePx ?? 32);
  const video = useRef<HTMLVideoElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (video.current) video.current.srcObject = webcamStream();
  }, [webcamSession, webcamStream]);
  useFullscreen(box, full, setFull);
  return (
    <div ref={box} className={full ? 'webcam-view full' : 'webcam-view'} data-testid="webcam-view">
      <div className="preview">
        <video ref={video} autoPlay muted playsInline className={mirrored ? 'mirrored' : undefined} aria-label="Camera, cropped to the square the model sees" />
      </div>
      <div className="webcam-readout">
        <div className="webcam-status">
          {crop && <PixelCanvas rgb={crop} size={size} displayPx={64} title="What the model sees" mirrored={mirrored} />}
          <span data-testid="webcam-fps" data-frames={frames}>{fps} frames/s</span>
          {full && <button type="button" onClick={() => setFull(false)}>Exit full screen</button>}
        </div>
        {verdict.known !== null && (
          <p className={verdict.unknown ? 'none-of-these' : 'known-score'} data-testid="webcam-known" data-unknown={verdict.unknown || undefined}>
            {verdict.unknown ? 'None of these' : 'One of yours'}: p(known) {(100 * verdict.known).toFixed(0)} %
          </p>
        )}
        <TopBars top={top} />
      </div>
    </div>
  );
}

/** Asks the browser for real full screen where it can (not iOS Safari); the CSS overlay works either way. */
function useFullscreen(box: RefObject<HTMLDivElement | null>, full: boolean, setFull: (full: boolean) => void) {
  useEffect(() => {
    const el = box.current;
    if (!full || !el) return;
    if (el.requestFullscreen && !document.fullscreenElement) el.requestFullscreen().catch(() => undefined);
    const onChange = () => !document.fullscreenElement && setFull(false);
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setFull(false);
    document.addEventListener('fullscreenchange', onChange);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('fullscreenchange', onChange);
      document.removeEventListener('keydown', onKey);
      if (document.fullscreenElement === el) void document.exitFullscreen().catch(() => undefined);
    };
  }, [box, full, setFull]);
}
