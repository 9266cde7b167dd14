import PeriscopeCore
import Testing

/// What the kernel read at an exec, turned into the executable a process is named by.
struct ExecutedImageTests {
    @Test func componentsWalkedUpToTheRootMakeTheAbsolutePath() {
        let image = ExecutedImage(componentsLastFirst: ["python3.13", "bin", "usr"], complete: true, interpreter: "/usr/bin/python3", parentPID: 7)
        #expect(image.path == "/usr/bin/python3.13")
        #expect(image.executable == "/usr/bin/python3.13")
        #expect(image.parentPID == 7)
    }

    /// A walk cut short (too deep, a name too long, outside its mount) names no path: the
    /// interpreter as the script named it stands in, never the script.
    @Test(arguments: [
        (["python3.13", "bin"], false),
        ([], true),
        (["python3.13", "", "usr"], true),
        (["a/b", "usr"], true),
    ] as [([String], Bool)])
    func incompleteWalksFallBackToTheInterpreter(components: [String], complete: Bool) {
        let image = ExecutedImage(componentsLastFirst: components, complete: complete, interpreter: "/usr/bin/python3")
        #expect(image.path == nil)
        #expect(image.executable == "/usr/bin/python3")
    }

    @Test func nothingReadableNamesNothing() {
        #expect(ExecutedImage(componentsLastFirst: [], complete: false, interpreter: "").executable == nil)
    }
}
