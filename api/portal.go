package api

import "github.com/gin-gonic/gin"

func (s *Server) portalRoutes(v1 *gin.RouterGroup) {}

var (
	portalComponents = schema{}
	portalEndpoints  []endpoint
)
