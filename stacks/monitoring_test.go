package stacks_test

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/example/secret-rotation/internal/doctor"
	"github.com/example/secret-rotation/internal/rotation"
	"github.com/example/secret-rotation/rotationcdk"
	"github.com/example/secret-rotation/stacks"
)

// monitoringCase is what each test environment's doctor block configures
// (main_test.go): defaults everywhere but "full".
type monitoringCase struct {
	env                      string
	repair                   string
	stuckAfter               string
	configRules, endpoints   int
	email, https             int
	threshold, periodSeconds float64
	timeout                  float64
	caBundle                 bool
	sweep                    string // the schedule rule's expression
}

var monitoringCases = []monitoringCase{
	{env: "dev", repair: "true", stuckAfter: "1h0m0s", threshold: 1, periodSeconds: 300, timeout: 300, sweep: "rate(1 hour)"},
	{env: "prod", repair: "true", stuckAfter: "1h0m0s", threshold: 1, periodSeconds: 300, timeout: 300, sweep: "rate(1 hour)"},
	{env: "full", repair: "false", stuckAfter: "2h0m0s", configRules: 3, email: 1, https: 1, threshold: 2, periodSeconds: 600, timeout: 300, caBundle: true, sweep: "rate(30 minutes)"},
	{env: "isolated", repair: "true", stuckAfter: "1h0m0s", endpoints: 2, threshold: 1, periodSeconds: 300, timeout: 300, sweep: "rate(1 hour)"},
}

// stackOutputOf reports whether v is a weak reference to an output of the
// named stack.
func stackOutputOf(v any, stack string) bool {
	m, _ := v.(map[string]any)
	g, _ := m["Fn::GetStackOutput"].(map[string]any)
	return g != nil && g["StackName"] == stack
}

// doctorFunction returns the doctor's logical id and properties.
func doctorFunction(t *testing.T, tpl map[string]any) (string, map[string]any) {
	t.Helper()
	id, fn := onlyResource(t, tpl, "AWS::Lambda::Function")
	if !strings.HasPrefix(id, "Doctor") {
		t.Fatalf("the monitoring stack's function is %s, want the doctor", id)
	}
	return id, props(fn)
}

// TestMonitoringResources: every environment gets the topic (its own key,
// TLS only), the failure rule, the alarm rule, both alarms and the doctor,
// configured from its doctor block: the report-only switch, the stuck age,
// subscriptions, Config rules only when enabled, endpoints only without NAT.
func TestMonitoringResources(t *testing.T) {
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			counts := map[string]int{
				"AWS::SNS::Topic": 1, "AWS::SNS::TopicPolicy": 1, "AWS::KMS::Key": 1, "AWS::Events::Rule": 3,
				"AWS::CloudWatch::Alarm": 2, "AWS::Lambda::Function": 1, "AWS::Lambda::Permission": 3,
				"AWS::Config::ConfigRule": tc.configRules, "AWS::EC2::VPCEndpoint": tc.endpoints,
			}
			for typ, want := range counts {
				if got := len(resourcesOfType(tpl, typ)); got != want {
					t.Errorf("%d %s, want %d", got, typ, want)
				}
			}

			keyID, _ := onlyResource(t, tpl, "AWS::KMS::Key")
			_, topic := onlyResource(t, tpl, "AWS::SNS::Topic")
			if !getAttArn(props(topic)["KmsMasterKeyId"], keyID) {
				t.Errorf("topic key = %s, want the stack's own key %s", asJSON(props(topic)["KmsMasterKeyId"]), keyID)
			}
			_, policy := onlyResource(t, tpl, "AWS::SNS::TopicPolicy")
			if p := asJSON(props(policy)); !strings.Contains(p, `"aws:SecureTransport":"false"`) || !strings.Contains(p, `"Effect":"Deny"`) {
				t.Errorf("topic policy does not refuse plain HTTP: %s", p)
			}

			var email, https int
			for _, s := range resourcesOfType(tpl, "AWS::SNS::Subscription") {
				switch props(s)["Protocol"] {
				case "email":
					email++
				case "https":
					https++
				}
			}
			if email != tc.email || https != tc.https {
				t.Errorf("subscriptions: %d email, %d https; want %d, %d", email, https, tc.email, tc.https)
			}

			_, fn := doctorFunction(t, tpl)
			if fn["Runtime"] != "provided.al2023" || asJSON(fn["Architectures"]) != `["arm64"]` || fn["Handler"] != "bootstrap" || fn["Timeout"] != tc.timeout {
				t.Errorf("doctor runtime %v %v %v timeout %v", fn["Runtime"], fn["Architectures"], fn["Handler"], fn["Timeout"])
			}
			if vpc, _ := fn["VpcConfig"].(map[string]any); vpc["SubnetIds"] == nil || vpc["SecurityGroupIds"] == nil {
				t.Errorf("doctor outside the VPC: %s", asJSON(fn["VpcConfig"]))
			}
			vars, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			topicID, _ := onlyResource(t, tpl, "AWS::SNS::Topic")
			checks := []struct {
				name string
				ok   bool
			}{
				{doctor.EnvRepair + "=" + tc.repair, vars[doctor.EnvRepair] == tc.repair},
				{doctor.EnvStuckAfter + "=" + tc.stuckAfter, vars[doctor.EnvStuckAfter] == tc.stuckAfter},
				{doctor.EnvEnvironment + "=" + tc.env, vars[doctor.EnvEnvironment] == tc.env},
				{doctor.EnvTopicARN + " is the topic", asJSON(vars[doctor.EnvTopicARN]) == asJSON(map[string]any{"Ref": topicID})},
				{doctor.EnvRotationFunctionARN + " from the rotation stack", stackOutputOf(vars[doctor.EnvRotationFunctionARN], stackName(tc.env, "Rotation"))},
				{doctor.EnvRotationLogGroup + " from the rotation stack", stackOutputOf(vars[doctor.EnvRotationLogGroup], stackName(tc.env, "Rotation"))},
				{rotation.EnvCABundle + " as configured", (vars[rotation.EnvCABundle] == rotationcdk.CABundleFileName) == tc.caBundle},
				{"no endpoint override", vars[doctor.EnvSecretsManagerEndpoint] == nil},
			}
			for _, c := range checks {
				if !c.ok {
					t.Errorf("doctor environment: want %s; got %s", c.name, asJSON(vars))
				}
			}
		})
	}
}

// TestDoctorPermissionsScoped: every statement of the doctor's policies
// names its resources, except the two actions without resource-level
// permissions (ListSecrets, the VPC network interfaces); the watched secret
// is the database stack's, with only read, relabel and rotate; its key is
// usable only through Secrets Manager.
func TestDoctorPermissionsScoped(t *testing.T) {
	wildcardOK := map[string]bool{"secretsmanager:ListSecrets": true}
	for _, a := range []string{"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
		"ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"} {
		wildcardOK[a] = true
	}
	never := []string{"secretsmanager:PutSecretValue", "secretsmanager:GetRandomPassword", "secretsmanager:DeleteSecret",
		"secretsmanager:UpdateSecret", "secretsmanager:PutResourcePolicy", "kms:Encrypt", "logs:DeleteLogGroup"}
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			if n := len(resourcesOfType(tpl, "AWS::IAM::Policy")); n != 0 {
				t.Errorf("%d inline policies: every grant should be in the doctor's managed policies", n)
			}
			bySid := map[string]map[string]any{}
			for id, p := range resourcesOfType(tpl, "AWS::IAM::ManagedPolicy") {
				doc, _ := props(p)["PolicyDocument"].(map[string]any)
				for _, s := range doc["Statement"].([]any) {
					st := s.(map[string]any)
					sid, _ := st["Sid"].(string)
					bySid[sid] = st
					actions := stringList(st["Action"])
					for _, a := range actions {
						if slices.Contains(never, a) || strings.Contains(a, "*") {
							t.Errorf("%s %s: action %s", id, sid, a)
						}
					}
					if slices.Contains(stringList(st["Resource"]), "*") {
						for _, a := range actions {
							if !wildcardOK[a] {
								t.Errorf("%s %s: %s on Resource *", id, sid, a)
							}
						}
					}
				}
			}
			secrets := bySid["ReadAndRepairWatchedSecrets"]
			wantActions := []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds",
				"secretsmanager:UpdateSecretVersionStage"}
			if got := stringList(secrets["Action"]); !slices.Equal(sorted(got), wantActions) {
				t.Errorf("secret actions = %v, want %v", got, wantActions)
			}
			// The one retry: RotateSecret on the same secrets, keeping
			// their rotation function (the rotation stack's) and rules.
			retry := bySid["RetryRotationUnchanged"]
			cond, _ := retry["Condition"].(map[string]any)
			fnCond, _ := cond["ArnEqualsIfExists"].(map[string]any)
			if asJSON(retry["Action"]) != `"secretsmanager:RotateSecret"` || asJSON(retry["Resource"]) != asJSON(secrets["Resource"]) || len(cond) != 2 ||
				!stackOutputOf(fnCond["secretsmanager:RotationLambdaARN"], stackName(tc.env, "Rotation")) ||
				asJSON(cond["BoolIfExists"]) != `{"secretsmanager:ModifyRotationRules":"false"}` {
				t.Errorf("retry statement = %s, want RotateSecret on the watched secrets without another function or rules", asJSON(retry))
			}
			if !stackOutputOf(secrets["Resource"], stackName(tc.env, "Database")) {
				t.Errorf("secret statement resource = %s, want the database stack's secret", asJSON(secrets["Resource"]))
			}
			keys := bySid["SecretKeysThroughSecretsManager"]
			if !stackOutputOf(keys["Resource"], stackName(tc.env, "Database")) || !strings.Contains(asJSON(keys["Condition"]), `"kms:ViaService"`) ||
				asJSON(keys["Action"]) != `"kms:Decrypt"` {
				t.Errorf("secret key statement = %s, want kms:Decrypt of the database key via Secrets Manager", asJSON(keys))
			}
			if logs := bySid["ReadRotationLogs"]; asJSON(logs["Action"]) != `"logs:FilterLogEvents"` || !stackOutputOf(logs["Resource"], stackName(tc.env, "Rotation")) {
				t.Errorf("log statement = %s, want FilterLogEvents on the rotation function's log group", asJSON(logs))
			}
			topicID, _ := onlyResource(t, tpl, "AWS::SNS::Topic")
			if pub := bySid["PublishReports"]; asJSON(pub["Resource"]) != asJSON(map[string]any{"Ref": topicID}) {
				t.Errorf("publish statement = %s, want the topic only", asJSON(pub))
			}
		})
	}
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// ruleByDescription returns the event rule whose description contains what.
func ruleByDescription(t *testing.T, tpl map[string]any, what string) (string, map[string]any) {
	t.Helper()
	for id, r := range resourcesOfType(tpl, "AWS::Events::Rule") {
		if d, _ := props(r)["Description"].(string); strings.Contains(d, what) {
			return id, props(r)
		}
	}
	t.Fatalf("no event rule described as %q", what)
	return "", nil
}

// TestRotationFailureRule: the rule matches exactly Secrets Manager's
// rotation failure events (delivered from CloudTrail as service events) of
// this environment's secret, and sends them to the doctor and, as a
// sentence, to the topic; EventBridge may invoke the doctor for this rule.
func TestRotationFailureRule(t *testing.T) {
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			ruleID, rule := ruleByDescription(t, tpl, "rotation failures")
			pattern, _ := rule["EventPattern"].(map[string]any)
			detail, _ := pattern["detail"].(map[string]any)
			if asJSON(pattern["source"]) != `["aws.secretsmanager"]` || asJSON(pattern["detail-type"]) != `["AWS Service Event via CloudTrail"]` ||
				asJSON(detail["eventSource"]) != `["secretsmanager.amazonaws.com"]` ||
				!slices.Equal(stringList(detail["eventName"]), stacks.RotationFailureEvents) || len(stacks.RotationFailureEvents) != 2 {
				t.Errorf("pattern = %s", asJSON(pattern))
			}
			ids, _ := detail["additionalEventData"].(map[string]any)["SecretId"].([]any)
			if len(ids) != 1 || !stackOutputOf(ids[0], stackName(tc.env, "Database")) {
				t.Errorf("secret filter = %s, want the database stack's secret ARN", asJSON(ids))
			}
			doctorID, _ := doctorFunction(t, tpl)
			topicID, _ := onlyResource(t, tpl, "AWS::SNS::Topic")
			var toDoctor, toTopic bool
			for _, tg := range rule["Targets"].([]any) {
				target := tg.(map[string]any)
				switch {
				case getAttArn(target["Arn"], doctorID):
					toDoctor = true
				case asJSON(target["Arn"]) == asJSON(map[string]any{"Ref": topicID}):
					tmpl := asJSON(target["InputTransformer"])
					toTopic = strings.Contains(tmpl, "$.detail.additionalEventData.SecretId") && strings.Contains(tmpl, "$.detail.eventName")
				}
			}
			if !toDoctor || !toTopic {
				t.Errorf("targets = %s: doctor %v, topic with a readable message %v", asJSON(rule["Targets"]), toDoctor, toTopic)
			}
			checkInvokePermission(t, tpl, ruleID, doctorID)
		})
	}
}

// TestDoctorSweepRule: a schedule at the configured rate invokes the
// doctor with the scheduled-sweep payload, the one that publishes only
// when a secret needs attention and repairs what has become old enough.
func TestDoctorSweepRule(t *testing.T) {
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			ruleID, rule := ruleByDescription(t, tpl, "the doctor checks every")
			doctorID, _ := doctorFunction(t, tpl)
			if rule["ScheduleExpression"] != tc.sweep || rule["EventPattern"] != nil || rule["State"] != "ENABLED" {
				t.Errorf("sweep rule = %s, want schedule %s", asJSON(rule), tc.sweep)
			}
			targets, _ := rule["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("sweep targets = %s", asJSON(targets))
			}
			target := targets[0].(map[string]any)
			if !getAttArn(target["Arn"], doctorID) || target["Input"] != doctor.ScheduledSweep {
				t.Errorf("sweep target = %s, want the doctor with %s", asJSON(target), doctor.ScheduledSweep)
			}
			if got, err := doctor.ParseTrigger([]byte(target["Input"].(string))); err != nil || !got.Scheduled || !got.All {
				t.Errorf("the doctor reads the sweep's input as %+v, %v", got, err)
			}
			checkInvokePermission(t, tpl, ruleID, doctorID)
		})
	}
}

// checkInvokePermission: EventBridge may invoke the doctor for that rule only.
func checkInvokePermission(t *testing.T, tpl map[string]any, ruleID, doctorID string) {
	t.Helper()
	for _, p := range resourcesOfType(tpl, "AWS::Lambda::Permission") {
		pp := props(p)
		if getAttArn(pp["SourceArn"], ruleID) && getAttArn(pp["FunctionName"], doctorID) &&
			pp["Principal"] == "events.amazonaws.com" && pp["Action"] == "lambda:InvokeFunction" {
			return
		}
	}
	t.Errorf("no permission for rule %s to invoke %s", ruleID, doctorID)
}

// TestRotationErrorsAlarm: the alarm watches the rotation stack's function
// with the configured threshold and period, notifies the topic on ALARM and
// OK, and its ALARM state reaches the doctor through EventBridge; the
// doctor's own errors alarm the topic.
func TestRotationErrorsAlarm(t *testing.T) {
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			topicRef := asJSON([]any{map[string]any{"Ref": topicIDOf(t, tpl)}})
			doctorID, _ := doctorFunction(t, tpl)
			var rotationAlarm string
			for id, a := range resourcesOfType(tpl, "AWS::CloudWatch::Alarm") {
				p := props(a)
				dims, _ := p["Dimensions"].([]any)
				if p["Namespace"] != "AWS/Lambda" || p["MetricName"] != "Errors" || p["Statistic"] != "Sum" || len(dims) != 1 || asJSON(p["AlarmActions"]) != topicRef {
					t.Errorf("alarm %s = %s", id, asJSON(p))
					continue
				}
				fnName := dims[0].(map[string]any)["Value"]
				switch {
				case stackOutputOf(fnName, stackName(tc.env, "Rotation")):
					rotationAlarm = id
					if p["Threshold"] != tc.threshold || p["Period"] != tc.periodSeconds || asJSON(p["OKActions"]) != topicRef ||
						p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
						t.Errorf("rotation errors alarm = %s", asJSON(p))
					}
				case asJSON(fnName) != asJSON(map[string]any{"Ref": doctorID}):
					t.Errorf("alarm %s watches %s, want the rotation function or the doctor", id, asJSON(fnName))
				}
			}
			if rotationAlarm == "" {
				t.Fatal("no alarm on the rotation function's errors")
			}
			ruleID, rule := ruleByDescription(t, tpl, "error alarm")
			pattern := rule["EventPattern"].(map[string]any)
			if asJSON(pattern["source"]) != `["aws.cloudwatch"]` || asJSON(pattern["detail-type"]) != `["CloudWatch Alarm State Change"]` ||
				asJSON(pattern["resources"]) != asJSON([]any{map[string]any{"Fn::GetAtt": []any{rotationAlarm, "Arn"}}}) ||
				asJSON(pattern["detail"]) != `{"state":{"value":["ALARM"]}}` {
				t.Errorf("alarm rule pattern = %s", asJSON(pattern))
			}
			if targets := rule["Targets"].([]any); len(targets) != 1 || !getAttArn(targets[0].(map[string]any)["Arn"], doctorID) {
				t.Errorf("alarm rule targets = %s, want the doctor", asJSON(targets))
			}
			checkInvokePermission(t, tpl, ruleID, doctorID)
		})
	}
}

func topicIDOf(t *testing.T, tpl map[string]any) string {
	t.Helper()
	id, _ := onlyResource(t, tpl, "AWS::SNS::Topic")
	return id
}

// TestTopicPublishers: EventBridge and CloudWatch may use the topic's key
// (they encrypt what they publish), CloudWatch may publish for alarms of
// this account only.
func TestTopicPublishers(t *testing.T) {
	tpl := templateJSON(t, "dev", "Monitoring")
	_, key := onlyResource(t, tpl, "AWS::KMS::Key")
	var keyOK bool
	for _, s := range props(key)["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		services := stringList(st["Principal"].(map[string]any)["Service"])
		if slices.Equal(sorted(services), []string{"cloudwatch.amazonaws.com", "events.amazonaws.com"}) &&
			slices.Equal(sorted(stringList(st["Action"])), []string{"kms:Decrypt", "kms:GenerateDataKey*"}) {
			keyOK = true
		}
	}
	if !keyOK {
		t.Errorf("topic key policy lets no AWS service publish: %s", asJSON(props(key)["KeyPolicy"]))
	}
	_, policy := onlyResource(t, tpl, "AWS::SNS::TopicPolicy")
	if p := asJSON(props(policy)); !strings.Contains(p, `"Service":"cloudwatch.amazonaws.com"`) || !strings.Contains(p, `"aws:SourceAccount"`) ||
		!strings.Contains(p, `"Service":"events.amazonaws.com"`) {
		t.Errorf("topic policy = %s, want CloudWatch (this account's alarms) and EventBridge", p)
	}
}

// TestDoctorReachesDatabase: the doctor's group may reach the database
// port and HTTPS only, and the database admits it; both rules live in the
// monitoring stack (the database stack never refers to the doctor).
func TestDoctorReachesDatabase(t *testing.T) {
	for _, tc := range monitoringCases {
		t.Run(tc.env, func(t *testing.T) {
			tpl := templateJSON(t, tc.env, "Monitoring")
			port := float64(3306)
			if tc.env == "full" {
				port = 3307
			}
			dbGroup := stackName(tc.env, "Database")
			var ingress, egress bool
			for _, r := range resourcesOfType(tpl, "AWS::EC2::SecurityGroupIngress") {
				p := props(r)
				if stackOutputOf(p["GroupId"], dbGroup) && p["FromPort"] == port && p["ToPort"] == port && p["SourceSecurityGroupId"] != nil {
					ingress = true
				}
			}
			for _, r := range resourcesOfType(tpl, "AWS::EC2::SecurityGroupEgress") {
				p := props(r)
				if stackOutputOf(p["DestinationSecurityGroupId"], dbGroup) && p["FromPort"] == port {
					egress = true
				}
			}
			if !ingress || !egress {
				t.Errorf("database port %v: ingress into the database group %v, egress from the doctor %v", port, ingress, egress)
			}
			for id, sg := range resourcesOfType(tpl, "AWS::EC2::SecurityGroup") {
				if !strings.HasPrefix(id, "DoctorSecurityGroup") {
					continue
				}
				rules, _ := props(sg)["SecurityGroupEgress"].([]any)
				if len(rules) != 1 || rules[0].(map[string]any)["FromPort"] != float64(443) {
					t.Errorf("doctor group egress = %s, want HTTPS only (besides the database rule)", asJSON(rules))
				}
			}
		})
	}
}
