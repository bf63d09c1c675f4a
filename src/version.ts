/** The version of tokenladder: reported by GET /api/v1/server-info and `tokenladder --version`. */
export const VERSION = '0.1.0';
