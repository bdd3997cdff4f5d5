export class CameraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CameraError';
  }
}

export interface CameraInfo {
  deviceId: string;
  label: string;
}

function mediaDevices(): MediaDevices {
  if (!navigator.mediaDevices?.getUserMedia)
    throw new CameraError('This browser cannot use a camera on this page (cameras need a secure context: https or localhost).');
  return navigator.mediaDevices;
}

export async function listCameras(): Promise<CameraInfo[]> {
  const devices = await mediaDevices().enumerateDevices();
  return devices
    .filter((d) => d.kind === 'videoinput')
    .map((d, i) => ({ deviceId: d.deviceId, label: d.label || `Camera ${i + 1}` }));
}

/** Opens a camera, translating the browser's errors into sentences a user can act on. */
export async function openCamera(deviceId?: string): Promise<MediaStream> {
  const md = mediaDevices();
  try {
    return await md.getUserMedia({
      // With no camera named, phones start on the rear camera (what you point at things); laptops have only the front one.
      video: { ...(deviceId ? { deviceId: { exact: deviceId } } : { facingMode: { ideal: 'environment' } }), width: { ideal: 640 }, height: { ideal: 480 } },
      audio: false,
    });
  } catch (e) {
    const name = (e as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError')
      throw new CameraError('Could not open your camera: access was denied. Allow camera access for this site in the browser settings, then retry.');
    if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError')
      throw new CameraError(deviceId ? 'That camera is no longer available. Pick another one and retry.' : 'No camera was found on this device.');
    if (name === 'NotReadableError' || name === 'AbortError')
      throw new CameraError('The camera could not start: another application may be using it.');
    throw new CameraError(`Could not open your camera (${(e as Error).message}).`);
  }
}

/** Front cameras are shown mirrored, as people expect to see themselves; a rear camera is not. */
export function isRearCamera(track: MediaStreamTrack): boolean {
  return track.getSettings().facingMode === 'environment';
}

export function stopStream(stream: MediaStream | null): void {
  stream?.getTracks().forEach((t) => t.stop());
}
