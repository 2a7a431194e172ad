package rotationcdk

import (
	"errors"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/secret-rotation/internal/rotation"
)

// MasterBindingTag is the tag [BindMasterSecret] sets on a master secret:
// its value is the ARN prefix of the secrets the function may rotate
// with that master.
const MasterBindingTag = rotation.MasterBindingTag

// BindMasterSecret binds master, a master secret created in this app, to
// the secrets it serves: the rotation function reads it (and logs in as
// its user) only for a secret whose ARN starts with usersPrefix,
// "arn:<partition>:secretsmanager:<region>:<account>:secret:<name prefix>"
// (a plain prefix, no wildcard; literal or from the pseudo parameters). It
// tags master with [MasterBindingTag] = usersPrefix, in master's own
// template: whoever can write a user secret cannot change it, only whoever
// can tag the master. End the name prefix with "/" so that it covers no
// sibling ("db/" and not "db2/").
//
// An imported master (an existing database's) cannot be tagged by this
// app (an error): bind it with [RotationFunctionProps]'
// MasterSecretBindings, or have its owner tag it. Binding master to a
// second, different prefix is an error (one tag, one prefix).
func BindMasterSecret(master awssecretsmanager.ISecret, usersPrefix string) error {
	if master == nil {
		return errors.New("bind master secret: master is required")
	}
	cfn, ok := ownedCfnSecret(master)
	if !ok {
		return errors.New("bind master secret: the secret is not created in this app (an imported secret cannot be tagged by it): list it in RotationFunctionProps.MasterSecretBindings, or have its owner tag it " + MasterBindingTag)
	}
	if err := checkSecretARNPrefix(usersPrefix); err != nil {
		return fmt.Errorf("bind master secret: users prefix %q: %w", usersPrefix, err)
	}
	if have, ok := boundPrefix(cfn); ok {
		if have != usersPrefix {
			return fmt.Errorf("bind master secret: already bound to %q, not %q (one master, one prefix)", have, usersPrefix)
		}
		return nil
	}
	cfn.Tags().SetTag(jsii.String(MasterBindingTag), jsii.String(usersPrefix), jsii.Number(100), jsii.Bool(true))
	return nil
}

// ownedCfnSecret returns the AWS::SecretsManager::Secret of a secret
// created in this app.
func ownedCfnSecret(s awssecretsmanager.ISecret) (awssecretsmanager.CfnSecret, bool) {
	if !*awscdk.Resource_IsOwnedResource(s) {
		return nil, false
	}
	cfn, ok := s.Node().DefaultChild().(awssecretsmanager.CfnSecret)
	return cfn, ok && cfn != nil
}

// boundPrefix is the value of cfn's [MasterBindingTag], if set.
func boundPrefix(cfn awssecretsmanager.CfnSecret) (string, bool) {
	values := cfn.Tags().TagValues()
	if values == nil {
		return "", false
	}
	v, ok := (*values)[MasterBindingTag]
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// checkMasterBound refuses, at synth, a rotation whose master secret is
// created in this app but not bound, when the function requires bindings:
// every rotation with it would be refused. A master this app does not
// own (imported, or an attachment) cannot be checked here.
func checkMasterBound(props *SecretRotationProps) error {
	if props.MasterSecret == nil || props.Function == nil || props.Function.AllowUnboundMasterSecrets {
		return nil
	}
	cfn, ok := ownedCfnSecret(props.MasterSecret)
	if !ok {
		return nil
	}
	if _, ok := boundPrefix(cfn); !ok {
		return errors.New("MasterSecret is not bound to the secrets it serves: call rotationcdk.BindMasterSecret(master, <ARN prefix of its user secrets>) first (the function refuses a master that does not name the rotated secret), or set the function's AllowUnboundMasterSecrets")
	}
	return nil
}
