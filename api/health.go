package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz is ready when the database answers and no read model is failing.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Pool.Ping(ctx); err != nil {
		writeProblem(c, edge(codeUnavailable, "The database does not answer."))
		return
	}
	if s.cfg.Projector != nil {
		for _, p := range s.cfg.Projector.Projections() {
			if s.cfg.Projector.State(p.Name()) == "failing" {
				writeProblem(c, edge(codeUnavailable, "The read model "+p.Name()+" is failing."))
				return
			}
		}
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
