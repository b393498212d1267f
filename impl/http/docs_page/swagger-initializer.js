// Swagger UI on the served contract. A file, not an inline script, so the page's policy allows scripts
// from the service only. The settings are FastAPI's defaults for its own page; validatorUrl null: the
// spec is never sent to validator.swagger.io.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
