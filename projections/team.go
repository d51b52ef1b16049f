package projections

// teamProjections are the read models of this feature.
var teamProjections []Projection
