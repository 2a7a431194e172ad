// Package stacks defines the CloudFormation stacks of one environment:
// network, rotation and database, created in that order by
// [NewEnvironmentStacks] under an App or a pipelines Stage.
//
// References flow one way only. The network stack exports the VPC (and the
// Secrets Manager endpoint URL); the rotation stack exports the function and
// its security group; the database stack receives both and creates everything
// that connects them: the IAM policy on the function's role scoped to the
// secret's ARN, the Lambda permission for secretsmanager.amazonaws.com, the
// security-group rules from the function to the database port, and the
// rotation schedule. Nothing in the rotation stack refers to the database
// stack, so there is no dependency cycle.
//
// The rotation function is compiled from lambda/rotation at synth time by
// [gobundle.Bundler] (local bundling, no Docker).
package stacks
