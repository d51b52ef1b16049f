package api

import (
	"github.com/gin-gonic/gin"

	"partners/projections"
)

// adminHistoryRoutes are the rebuild endpoints (history feature).
func (s *Server) adminHistoryRoutes(admin *gin.RouterGroup) {}

// withRebuild adds a rebuild's progress to a projection's status.
func (s *Server) withRebuild(st projections.Status) any { return st }
