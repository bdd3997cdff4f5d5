/** What both package entries (index.ts for browsers, node.ts for Node) export besides openPool. */
export { Pool, type OpenPoolOptions, type PoolCache, type PoolOrigin, type PoolStatus } from './ml/pool';
export { TaskModel, type ExportFormat } from './ml/taskModel';
export type { AccuracyReport, ClassAccuracy } from './ml/accuracy';
export type { ImageInput, PixelData } from './ml/imageInput';
export type { Prediction } from './ml/predict';
export type { ReferenceCheck } from './ml/reference';
export type { WeightPrecision } from './ml/exportModel';
export type { PoolManifest } from './ml/poolManifest';
export type { PoolBundle, PoolSource, FileProgress } from './ml/poolFetch';
export { PoeError, isPoeError, type PoeErrorCode } from './ml/errors';
export type { TfliteFiles, TflitePrecision, TfliteMetadata, CalibrationImages } from './ml/tflite/export';
export { poolFingerprint } from './ml/poolFingerprint';
export { recipeFragment, parseRecipeFragment, projectFile, parseProjectFile, type Recipe, type RecipePool, type RecipeCustomClass } from './ml/recipe';
export { makeRecipe, recipeMismatch, recipeCustomClasses, type RecipeMismatch } from './ml/recipePool';
