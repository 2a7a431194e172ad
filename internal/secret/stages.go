package secret

// Version stage labels of the Secrets Manager rotation contract, shared by
// the rotation function, the tools, the client library and the local
// endpoint.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)
