package lambdarun

// EmulatorPID returns the emulator's process id.
func EmulatorPID(f *Function) int { return f.proc.Pid() }

// FunctionErrorFrom exposes the error-document recognition.
var FunctionErrorFrom = functionError
