package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"partners/app"
	"partners/domain"
	"partners/projections"
)

// The client portal (seed 001): Settings → Client portal → Manage clients,
// the contracts shown in the portal with their requester, watchers and
// attachments switch, and each portal user's Contracts page.

func (w *Web) portalRoutes(o *gin.RouterGroup) {
	o.GET("portal/clients", w.inOrg(domain.ActionPortalRead, w.portalClients))
	o.POST("portal/clients", w.inOrg(domain.ActionPortalManage, w.createPortalUser))
	o.POST("portal/clients/:id", w.inOrg(domain.ActionPortalManage, w.updatePortalUser))
	o.GET("portal/clients/:id/contracts", w.inOrg(domain.ActionPortalRead, w.portalUserContracts))
	o.GET("portal/contracts", w.inOrg(domain.ActionPortalRead, w.portalContracts))
	o.POST("portal/contracts", w.inOrg(domain.ActionPortalManage, w.showContract))
	o.POST("portal/contracts/attachments", w.inOrg(domain.ActionPortalManage, w.setAttachments))
	o.POST("portal/contracts/withdraw", w.inOrg(domain.ActionPortalManage, w.withdrawContract))
}

func orgPath(org uuid.UUID, rest string) string { return "/o/" + org.String() + rest }

// portalUsers are the organization's portal users (the first 200: the
// pages' pickers list them all).
func (w *Web) portalUsers(c *gin.Context, org uuid.UUID) ([]projections.PortalUserView, error) {
	users, _, err := w.reader().PortalUsers(c.Request.Context(), org, "", projections.Page{Limit: 200})
	return users, err
}

// portalClients is "Manage clients": the portal users with their company,
// each editable, and the form to add one.
func (w *Web) portalClients(c *gin.Context, oc orgContext) {
	users, next, err := w.reader().PortalUsers(c.Request.Context(), oc.org, "", pageArg(c, 2))
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "portal.clients")
	oc.view.Data = map[string]any{"Items": users, "Next": nextLink(c, next), "First": c.Query("cursor") != "",
		"CanManage": oc.view.Org.Role != domain.RoleAccountant.String()}
	w.render(c, http.StatusOK, "portal_clients", oc.view)
}

func (w *Web) createPortalUser(c *gin.Context, oc orgContext) {
	back := orgPath(oc.org, "/portal/clients")
	var v domain.Validation
	email := domain.ParseField(&v, "email", c.PostForm("email"), domain.ParseEmail)
	name := domain.ParseField(&v, "name", c.PostForm("name"), domain.ParsePortalUserName)
	company := domain.ParseField(&v, "company", c.PostForm("company"), domain.ParseCompany)
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	spend, ok := w.admit(c, "create", oc.org, 0)
	if !ok {
		return
	}
	ch, err := w.cfg.App.CreatePortalUser(c.Request.Context(), w.actor(sessionOf(c)), oc.org, email, name, company)
	spend(err)
	w.afterCommand(c, err, ch.Result.Position, back, back, "flash.portaluser", name)
}

func (w *Web) updatePortalUser(c *gin.Context, oc orgContext) {
	back := orgPath(oc.org, "/portal/clients")
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	var v domain.Validation
	name := domain.ParseField(&v, "name", c.PostForm("name"), domain.ParsePortalUserName)
	company := domain.ParseField(&v, "company", c.PostForm("company"), domain.ParseCompany)
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	ch, err := w.cfg.App.UpdatePortalUser(c.Request.Context(), w.actor(sessionOf(c)), oc.org, id, &name, &company)
	w.afterCommand(c, err, ch.Result.Position, back, back, "flash.portaluser.saved", name)
}

// portalUserContracts is a portal user's Contracts page: the contracts they
// see, as requester or watcher, attachments shown or not.
func (w *Web) portalUserContracts(c *gin.Context, oc orgContext) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	ctx := c.Request.Context()
	u, ok, err := w.reader().PortalUser(ctx, oc.org, id)
	if err != nil {
		w.fail(c, err)
		return
	}
	if !ok {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	items, next, err := w.reader().PortalUserContracts(ctx, oc.org, id, pageArg(c, 1))
	if err != nil {
		w.fail(c, err)
		return
	}
	oc.view.Title = translate(langOf(c), "portal.usercontracts", u.Name)
	oc.view.Data = map[string]any{"User": u, "Items": items, "Next": nextLink(c, next), "First": c.Query("cursor") != ""}
	w.render(c, http.StatusOK, "portal_user", oc.view)
}

// portalContracts lists the contracts shown in the portal and holds the
// "Show in the client portal" form. The service keeps no contract list of
// its own, and the read models list contracts by portal user: every shown
// contract has a requester, so the requesters' Contracts pages together
// are the list.
func (w *Web) portalContracts(c *gin.Context, oc orgContext) {
	ctx := c.Request.Context()
	users, err := w.portalUsers(c, oc.org)
	if err != nil {
		w.fail(c, err)
		return
	}
	var shown []projections.ContractPortalView
	for _, u := range users {
		items, _, err := w.reader().PortalUserContracts(ctx, oc.org, u.ID, projections.Page{Limit: 200})
		if err != nil {
			w.fail(c, err)
			return
		}
		for _, it := range items {
			if it.As != domain.PortalRoleRequester {
				continue
			}
			v, ok, err := w.reader().ContractPortal(ctx, oc.org, it.ContractID)
			if err != nil {
				w.fail(c, err)
				return
			}
			if ok {
				shown = append(shown, v)
			}
		}
	}
	sort.Slice(shown, func(i, j int) bool { return shown[i].ContractID < shown[j].ContractID })
	// ?contract= fills the form with a shown contract, to change it.
	form := projections.ContractPortalView{}
	watching := map[uuid.UUID]bool{}
	if id := c.Query("contract"); id != "" {
		for _, s := range shown {
			if s.ContractID == id {
				form = s
			}
		}
		for _, wt := range form.Watchers {
			watching[wt.ID] = true
		}
	}
	oc.view.Title = translate(langOf(c), "portal.contracts")
	oc.view.Data = map[string]any{"Shown": shown, "Users": users, "Form": form, "Watching": watching,
		"Mismatch": c.Query("mismatch") != "", "CanManage": oc.view.Org.Role != domain.RoleAccountant.String()}
	w.render(c, http.StatusOK, "portal_contracts", oc.view)
}

// showContract is "Show in the client portal": a contract id and title
// typed in, the requester, the watchers and the attachments switch. A
// watcher of another company is refused, and the page links to Manage
// clients, as the seed's window does.
func (w *Web) showContract(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/portal/contracts")
	var v domain.Validation
	contract := domain.ParseField(&v, "contract_id", c.PostForm("contract_id"), domain.ParseContractID)
	in := app.ShowContractInput{ContractID: contract, AttachmentsVisible: c.PostForm("attachments") == "on", Locale: langOf(c)}
	in.Title = domain.ParseField(&v, "title", c.PostForm("title"), domain.ParseContractTitle)
	var err error
	if in.RequesterID, err = uuid.Parse(c.PostForm("requester")); err != nil {
		v.Add("requester", "choose a portal user")
	}
	watchers := c.PostFormArray("watchers")
	v.Check(len(watchers) > domain.MaxWatchers, "watchers", "too many")
	for _, raw := range watchers {
		id, err := uuid.Parse(raw)
		if err != nil {
			v.Add("watchers", "choose portal users")
			break
		}
		if id != in.RequesterID {
			in.WatcherIDs = append(in.WatcherIDs, id)
		}
	}
	back := page + "?contract=" + url.QueryEscape(c.PostForm("contract_id"))
	if err := v.Err(); err != nil {
		w.afterCommand(c, err, 0, back, back, "", "")
		return
	}
	// The requester and every watcher may get an email, as the API counts.
	spend, ok := w.admit(c, "share", oc.org, 1+len(in.WatcherIDs))
	if !ok {
		return
	}
	sc, err := w.cfg.App.ShowContract(c.Request.Context(), w.actor(sessionOf(c)), oc.org, in)
	spend(err)
	if de, ok := refused(err); ok && de.Code == domain.CodeCompanyMismatch {
		back += "&mismatch=1"
	}
	w.afterCommand(c, err, sc.Result.Position, back, page, "flash.shown", in.Title)
}

// contractArg reads the contract a list's button names.
func contractArg(c *gin.Context) (domain.ContractID, bool) {
	id, err := domain.ParseContractID(strings.TrimSpace(c.PostForm("contract_id")))
	return id, err == nil
}

func (w *Web) setAttachments(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/portal/contracts")
	id, ok := contractArg(c)
	if !ok {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	sc, err := w.cfg.App.SetAttachmentsVisible(c.Request.Context(), w.actor(sessionOf(c)), oc.org, id, c.PostForm("visible") == "true")
	w.afterCommand(c, err, sc.Result.Position, page, page, "flash.saved", "")
}

func (w *Web) withdrawContract(c *gin.Context, oc orgContext) {
	page := orgPath(oc.org, "/portal/contracts")
	id, ok := contractArg(c)
	if !ok {
		w.errorPage(c, http.StatusNotFound, "error.notfound")
		return
	}
	sc, err := w.cfg.App.WithdrawContract(c.Request.Context(), w.actor(sessionOf(c)), oc.org, id)
	w.afterCommand(c, err, sc.Result.Position, page, page, "flash.withdrawn", "")
}
