package api

import "github.com/gin-gonic/gin"

func (s *Server) teamRoutes(v1 *gin.RouterGroup) {}

var (
	teamComponents = schema{}
	teamEndpoints  []endpoint
)
