package domain

// Action is something a member may or may not do in an organization.
type Action string

// The actions of the permission table (DOMAIN.md section 5).
const (
	ActionSettingsRead      Action = "settings.read"
	ActionSettingsWrite     Action = "settings.write"
	ActionMembersManage     Action = "members.manage"
	ActionPartnersInvite    Action = "partners.invite"
	ActionInvitationsAnswer Action = "invitations.answer"
	ActionPartnersRead      Action = "partners.read"
	ActionInvitationsRead   Action = "invitations.read"
	ActionMembersRead       Action = "members.read"
	ActionAuditRead         Action = "audit.read"
	ActionPortalRead        Action = "portal.read"
	ActionPortalManage      Action = "portal.manage"
	ActionDocumentsReadAll  Action = "documents.read_all"
	ActionReportsRead       Action = "reports.read"
	ActionExportsCreate     Action = "exports.create"
	ActionDocumentsReadOwn  Action = "documents.read_own"
	ActionOrdersCreate      Action = "orders.create"
	ActionOrdersReadAll     Action = "orders.read_all"
	ActionOrdersReadOwn     Action = "orders.read_own"
	ActionProjectsRead      Action = "projects.read"
	ActionProjectsCreate    Action = "projects.create"
	ActionProjectsUpdate    Action = "projects.update"
	ActionPaymentsMake      Action = "payments.make"
)

// grant says who may do an action: the roles that always may, and for
// collaborators whether it depends on a flag.
type grant struct {
	roles        []Role
	collaborator collaboratorRule
}

type collaboratorRule int

const (
	collaboratorNever collaboratorRule = iota
	collaboratorAlways
	collaboratorIfCanPurchase
	collaboratorIfCanSeeAllOrders
)

// permissions is the permission table of DOMAIN.md section 5, as data. It is
// the only place that says who may do what: commands check their actor
// against it (Organization.Require), and GET /authorize answers from it.
// authorization_test.go walks it against a transcription of the document.
var permissions = map[Action]grant{
	ActionSettingsRead:      {roles: []Role{RoleOwner, RoleAdmin}},
	ActionSettingsWrite:     {roles: []Role{RoleOwner, RoleAdmin}},
	ActionMembersManage:     {roles: []Role{RoleOwner, RoleAdmin}},
	ActionPartnersInvite:    {roles: []Role{RoleOwner, RoleAdmin}},
	ActionInvitationsAnswer: {roles: []Role{RoleOwner, RoleAdmin}},
	ActionPartnersRead:      {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	ActionInvitationsRead:   {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	ActionMembersRead:       {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	ActionAuditRead:         {roles: []Role{RoleOwner, RoleAdmin, RoleAccountant}},
	ActionPortalRead:        {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}},
	ActionPortalManage:      {roles: []Role{RoleOwner, RoleAdmin, RoleMember}},
	ActionDocumentsReadAll:  {roles: []Role{RoleOwner, RoleAdmin, RoleAccountant}},
	ActionReportsRead:       {roles: []Role{RoleOwner, RoleAdmin, RoleAccountant}},
	ActionExportsCreate:     {roles: []Role{RoleOwner, RoleAdmin, RoleAccountant}},
	ActionDocumentsReadOwn:  {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	ActionOrdersCreate:      {roles: []Role{RoleOwner, RoleAdmin, RoleMember}, collaborator: collaboratorIfCanPurchase},
	ActionOrdersReadAll:     {roles: []Role{RoleOwner, RoleAdmin, RoleAccountant}, collaborator: collaboratorIfCanSeeAllOrders},
	ActionOrdersReadOwn:     {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	// Seed 003: a collaborator who may not buy still consults and modifies
	// the current projects and creates new ones; the parent account pays.
	ActionProjectsRead:   {roles: []Role{RoleOwner, RoleAdmin, RoleMember, RoleAccountant}, collaborator: collaboratorAlways},
	ActionProjectsCreate: {roles: []Role{RoleOwner, RoleAdmin, RoleMember}, collaborator: collaboratorAlways},
	ActionProjectsUpdate: {roles: []Role{RoleOwner, RoleAdmin, RoleMember}, collaborator: collaboratorAlways},
	ActionPaymentsMake:   {roles: []Role{RoleOwner, RoleAdmin}},
}

// Actions lists every action of the table, in the table's order.
func Actions() []Action {
	return []Action{
		ActionSettingsRead, ActionSettingsWrite, ActionMembersManage, ActionPartnersInvite,
		ActionInvitationsAnswer, ActionPartnersRead, ActionInvitationsRead, ActionMembersRead,
		ActionAuditRead, ActionPortalRead, ActionPortalManage, ActionDocumentsReadAll,
		ActionReportsRead, ActionExportsCreate, ActionDocumentsReadOwn, ActionOrdersCreate,
		ActionOrdersReadAll, ActionOrdersReadOwn, ActionProjectsRead, ActionProjectsCreate,
		ActionProjectsUpdate, ActionPaymentsMake,
	}
}

// ParseAction accepts the actions of the table.
func ParseAction(s string) (Action, error) {
	if _, ok := permissions[Action(s)]; !ok {
		return "", Invalid("action", "must be one of the actions of the permission table, such as partners.invite")
	}
	return Action(s), nil
}

// Grant is a member's standing in an organization, as far as authorization
// is concerned.
type Grant struct {
	Role            string
	CanPurchase     bool
	CanSeeAllOrders bool
}

// Decision is the answer to "may this member do that?", with the reason.
type Decision struct {
	Allowed bool
	Reason  string
}

// Authorize answers from the permission table. A zero Grant (no membership)
// is never allowed anything.
func Authorize(g Grant, a Action) Decision {
	rule, ok := permissions[a]
	if !ok {
		return Decision{Reason: "unknown action"}
	}
	if g.Role == "" {
		return Decision{Reason: "not a member of this organization"}
	}
	for _, r := range rule.roles {
		if r.String() == g.Role {
			return Decision{Allowed: true, Reason: "role " + g.Role + " may " + string(a)}
		}
	}
	if g.Role == RoleCollaborator.String() {
		switch rule.collaborator {
		case collaboratorAlways:
			return Decision{Allowed: true, Reason: "collaborators may " + string(a)}
		case collaboratorIfCanPurchase:
			if g.CanPurchase {
				return Decision{Allowed: true, Reason: "collaborator with can_purchase may " + string(a)}
			}
			return Decision{Reason: "collaborator without can_purchase may not " + string(a)}
		case collaboratorIfCanSeeAllOrders:
			if g.CanSeeAllOrders {
				return Decision{Allowed: true, Reason: "collaborator with can_see_all_orders may " + string(a)}
			}
			return Decision{Reason: "collaborator without can_see_all_orders may not " + string(a)}
		}
	}
	return Decision{Reason: "role " + g.Role + " may not " + string(a)}
}
