package api

import "github.com/gin-gonic/gin"

func (s *Server) invitationRoutes(v1 *gin.RouterGroup) {}

var (
	invitationComponents = schema{}
	invitationEndpoints  []endpoint
)
