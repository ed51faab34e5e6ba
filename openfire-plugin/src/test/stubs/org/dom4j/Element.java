package org.dom4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** dom4j's Element: only what the plugin and its tests use. */
public interface Element {
    String getName();

    String getNamespaceURI();

    String getText();

    void setText(String text);

    /** The first child with this local name (dom4j: in the parent's namespace or none), or null. */
    Element element(String name);

    Element addElement(String name);

    String attributeValue(String name);

    Element addAttribute(String name, String value);

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
    private final Map<String, String> attributes = new LinkedHashMap<>();
    private final List<Element> children = new ArrayList<>();

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

    public Element element(String childName) {
        for (Element child : children) {
            if (child.getName().equals(childName)) {
                return child;
            }
        }
        return null;
    }

    public Element addElement(String childName) {
        Element child = new TestElement(childName, namespace);
        children.add(child);
        return child;
    }

    public String attributeValue(String attribute) {
        return attributes.get(attribute);
    }

    public Element addAttribute(String attribute, String value) {
        attributes.put(attribute, value);
        return this;
    }

    public Element createCopy() {
        TestElement copy = new TestElement(name, namespace);
        copy.text = text;
        copy.attributes.putAll(attributes);
        for (Element child : children) {
            copy.children.add(child.createCopy());
        }
        return copy;
    }
}
