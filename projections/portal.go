package projections

// portalProjections are the read models of this feature.
var portalProjections []Projection
