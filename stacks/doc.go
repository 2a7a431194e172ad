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
// The stacks are the app's composition of the public constructs of package
// rotationcdk: the rotation stack holds a [rotationcdk.RotationFunction]
// (compiled from lambda/rotation at synth time, no Docker), the database
// stack a [rotationcdk.SecretRotation] of its master secret. The config
// package's validated environment is translated into their props here;
// resources that existed before the constructs keep their logical ids
// (keepLogicalID), so the refactor replaced nothing.
package stacks
