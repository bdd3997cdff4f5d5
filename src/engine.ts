/** What both package entries (index.ts for browsers, node.ts for Node) export besides openPool. */
export { Pool, type OpenPoolOptions, type PoolCache, type PoolOrigin, type PoolStatus } from './ml/pool';
export { TaskModel, type ExportFormat } from './ml/taskModel';
export type { AccuracyReport, ClassAccuracy } from './ml/run/accuracy';
export type { ImageInput, PixelData } from './ml/run/imageInput';
export type { Prediction } from './ml/run/predict';
export type { ReferenceCheck } from './ml/run/reference';
export type { WeightPrecision } from './ml/export/exportModel';
export type { PoolManifest } from './ml/pool/poolManifest';
export type { PoolBundle, PoolSource, FileProgress } from './ml/pool/poolFetch';
export { PoeError, isPoeError, type PoeErrorCode } from './ml/errors';
export type { TfliteFiles, TflitePrecision, TfliteMetadata, CalibrationImages } from './ml/export/tflite/export';
export { poolFingerprint } from './ml/pool/poolFingerprint';
export { recipeFragment, parseRecipeFragment, projectFile, parseProjectFile, type Recipe, type RecipePool, type RecipeCustomClass } from './ml/share/recipe';
export { makeRecipe, recipeMismatch, recipeCustomClasses, type RecipeMismatch } from './ml/share/recipePool';
export type { CustomClasses, CustomClassInfo, CustomTrainOptions, NegativeImages } from './ml/custom/customClasses';
export type { CustomExpertSpec } from './ml/custom/customSpec';
export type { StoredCustomClass } from './ml/custom/customFile';
