import { ClassPicker } from './ClassPicker';
import { ModelCard } from './ModelCard';
import { PoolPanel } from './PoolPanel';
import { UploadTest } from './UploadTest';
import { WebcamTest } from './WebcamTest';
import { BuiltInCheck } from './BuiltInCheck';
import { DownloadPanel } from './DownloadPanel';
import { AppUpdate } from './AppUpdate';
import { CustomClassPanel } from './CustomClassPanel';
import { RecipeNotice } from './RecipeNotice';
import { SharePanel } from './SharePanel';

export function App() {
  return (
    <div className="app">
      <header>
        <h1>PoE Studio</h1>
        <p>Pick the classes you need; get a small classifier built from a pool of experts in milliseconds, on your device, with no training.</p>
      </header>
      <PoolPanel />
      <RecipeNotice />
      <main className="columns">
        <ClassPicker />
        <div className="stack">
          <ModelCard />
          <WebcamTest />
          <CustomClassPanel />
          <UploadTest />
          <BuiltInCheck />
          <DownloadPanel />
          <SharePanel />
        </div>
      </main>
      <AppUpdate />
    </div>
  );
}
