import type { StateCreator } from 'zustand';
import { canvasRgb, centreCropTo } from '../io/imageFile';
import { isRearCamera, listCameras, openCamera, stopStream, type CameraInfo } from '../io/webcam';
import { keepScreenAwake } from '../io/wakeLock';
import { TOP_K } from '../config';
import type { Prediction } from '../ml/run/predict';
import type { EngineHandles } from './engine';
import type { AppState } from './index';

export interface WebcamSlice {
  cameras: CameraInfo[];
  cameraId: string | null;
  webcamOn: boolean;
  webcamError: string | null;
  webcamTop: Prediction[];
  /** The detector's verdict on the last frame (known: null without a detector). */
  webcamKnown: { known: number | null; unknown: boolean };
  webcamFps: number;
  webcamFrames: number;
  /** Changes whenever the camera starts or stops; the preview then asks for the stream (webcamStream()). */
  webcamSession: number;
  /** The live camera stream, or null; kept out of the state, which stays serialisable. */
  webcamStream: () => MediaStream | null;
  /** The centre crop the model saw last, as a size x size RGB image. */
  webcamCrop: Uint8Array | null;
  /** Front (or unknown) cameras are previewed mirrored; a rear camera is not. */
  webcamMirrored: boolean;
  /** Whether the screen is being kept awake (Wake Lock API) while the webcam runs. */
  webcamAwake: boolean;
  startWebcam: (cameraId?: string) => Promise<void>;
  /** Moves to the next camera, e.g. from the rear camera to the front one. */
  switchCamera: () => Promise<void>;
  stopWebcam: () => void;
}

export const createWebcamSlice = (engine: EngineHandles): StateCreator<AppState, [], [], WebcamSlice> => (set, get) => {
  let session = 0;
  let stream: MediaStream | null = null;
  let releaseWakeLock = () => {};

  /** Predicts frame after frame, one in flight at a time, until the session changes. */
  async function loop(mine: number, video: HTMLVideoElement, publish: (p: Pick<WebcamSlice, 'webcamTop' | 'webcamKnown' | 'webcamCrop' | 'webcamFps'>) => void): Promise<void> {
    const stamps: number[] = [];
    while (mine === session) {
      await new Promise((r) => requestAnimationFrame(r));
      const c = engine.model;
      if (!c || video.videoWidth === 0) continue;
      const size = c.sizePx;
      const pixels = canvasRgb(centreCropTo(video, video.videoWidth, video.videoHeight, size), c.channels);
      let top: Prediction[];
      let verdict: WebcamSlice['webcamKnown'];
      try {
        const r = await c.identify({ data: pixels, width: size, height: size }, TOP_K);
        top = r.predictions;
        verdict = { known: r.known, unknown: r.unknown };
      } catch {
        continue; // the model was swapped mid-frame (selection or backend change); the next frame uses the new one
      }
      if (mine !== session) break;
      const now = performance.now();
      stamps.push(now);
      while (stamps.length && now - stamps[0] > 1000) stamps.shift();
      publish({ webcamTop: top, webcamKnown: verdict, webcamCrop: pixels, webcamFps: stamps.length });
    }
    video.srcObject = null;
  }

  return {
    cameras: [],
    cameraId: null,
    webcamOn: false,
    webcamError: null,
    webcamTop: [],
    webcamKnown: { known: null, unknown: false },
    webcamFps: 0,
    webcamFrames: 0,
    webcamSession: 0,
    webcamStream: () => stream,
    webcamCrop: null,
    webcamMirrored: true,
    webcamAwake: false,

    startWebcam: async (cameraId) => {
      get().stopWebcam();
      const mine = ++session;
      set({ webcamError: null });
      let opened: MediaStream;
      try {
        opened = await openCamera(cameraId ?? get().cameraId ?? undefined);
      } catch (e) {
        set({ webcamError: (e as Error).message, webcamOn: false });
        return;
      }
      if (mine !== session) return stopStream(opened);
      stream = opened;
      const track = opened.getVideoTracks()[0];
      track.addEventListener('ended', () => {
        if (mine !== session) return;
        get().stopWebcam();
        set({ webcamError: 'The camera stopped: it was disconnected or another application took it. Retry when it is back.' });
      });
      const video = document.createElement('video');
      video.muted = true;
      video.playsInline = true;
      video.srcObject = opened;
      await video.play().catch(() => undefined);
      const cameras = await listCameras().catch(() => []);
      set({
        webcamOn: true, webcamSession: mine, cameras, cameraId: track.getSettings().deviceId ?? cameraId ?? null, webcamFrames: 0,
        webcamMirrored: !isRearCamera(track),
      });
      releaseWakeLock = keepScreenAwake((awake) => mine === session && set({ webcamAwake: awake }));
      void loop(mine, video, (p) => {
        set((s) => ({ ...p, webcamFrames: s.webcamFrames + 1 }));
        if (get().webcamFrames % 30 === 0) get().refreshMemory();
      });
    },

    switchCamera: async () => {
      const { cameras, cameraId } = get();
      if (cameras.length < 2) return;
      const next = cameras[(cameras.findIndex((c) => c.deviceId === cameraId) + 1) % cameras.length];
      await get().startWebcam(next.deviceId);
    },

    stopWebcam: () => {
      session++;
      releaseWakeLock();
      releaseWakeLock = () => {};
      stopStream(stream);
      stream = null;
      set({ webcamOn: false, webcamSession: session, webcamFps: 0, webcamAwake: false });
    },
  };
};
