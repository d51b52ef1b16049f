package projections

// invitationProjections are the read models of this feature.
var invitationProjections []Projection
