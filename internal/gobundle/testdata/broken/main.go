// Command broken does not compile, on purpose: the bundler tests prove that a
// build failure aborts synth with the compiler's message.
package main

func main() {
	undefinedOnPurpose()
}
