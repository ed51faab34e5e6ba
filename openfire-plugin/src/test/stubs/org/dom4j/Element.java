package org.dom4j;

/** dom4j's Element: only what the plugin and its tests use. */
public interface Element {
    String getName();

    String getNamespaceURI();

    String getText();

    void setText(String text);

    Element createCopy();

    /** Test stand-in factory (dom4j uses DocumentHelper.createElement). */
    static Element testCreate(String name, String namespace) {
        return new TestElement(name, namespace);
    }
}

final class TestElement implements Element {
    private final String name;
    private final String namespace;
    private String text = "";

    TestElement(String name, String namespace) {
        this.name = name;
        this.namespace = namespace;
    }

    public String getName() {
        return name;
    }

    public String getNamespaceURI() {
        return namespace;
    }

    public String getText() {
        return text;
    }

    public void setText(String text) {
        this.text = text;
    }

    public Element createCopy() {
        TestElement copy = new TestElement(name, namespace);
        copy.text = text;
        return copy;
    }
}
