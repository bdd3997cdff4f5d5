/** Touch-sized controls (app.css sizes buttons; these are the custom-class panel's own inputs and labels). */
export const TOUCH = { minHeight: 44, minWidth: 44 } as const;
