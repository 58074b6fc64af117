"""PLS (W3C Pronunciation Lexicon Specification) files: read with a hardened parser, written
with an XML writer.

Reading uses ``defusedxml``, which refuses a document type declaration, entity declarations
and external references outright: a PLS file has no use for them, and they are how "billion
laughs" expansion and reading local files through XML are done. Each ``<grapheme>`` of a
``<lexeme>`` becomes one rule: an alias rule from its ``<alias>``, otherwise a phoneme rule
from its first ``<phoneme>`` (in that element's ``alphabet``, else the lexicon's).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable

import defusedxml
import defusedxml.ElementTree

from xiwidgets.server.lexicon import PronunciationRule

NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
_NS = f"{{{NAMESPACE}}}"
# The hosted API's two alphabets; PLS files also name CMU Arpabet "x-cmu-arpabet".
_ALPHABET_NAMES = {"ipa": "ipa", "cmu-arpabet": "cmu-arpabet", "x-cmu-arpabet": "cmu-arpabet"}


class PLSError(ValueError):
    """A file that is not a PLS lexicon this server reads (the message says why)."""


def read_pls(data: bytes) -> list[PronunciationRule]:
    """The rules of a PLS file, in the file's order.

    Parameters
    ----------
    data : bytes
        The file as uploaded.

    Returns
    -------
    list of PronunciationRule

    Raises
    ------
    PLSError
        For a document type, entity or external reference (refused, never expanded), XML
        that does not parse, a root that is not ``<lexicon>``, a lexeme without a grapheme or
        a pronunciation, or an alphabet other than IPA and CMU Arpabet.
    """
    try:
        root = defusedxml.ElementTree.fromstring(data, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise PLSError(
            "The file has a document type declaration (<!DOCTYPE>); PLS files need none and "
            "this server refuses them, so entities cannot be expanded. Remove it."
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise PLSError(
            "The file declares or references XML entities; this server refuses them (they "
            "could expand without bound or read other files). Write the text out instead."
        ) from None
    except ElementTree.ParseError as exc:
        raise PLSError(f"The file is not well-formed XML ({exc}).") from None
    if _local(root.tag) != "lexicon":
        raise PLSError(f"The root element is <{_local(root.tag)}>; a PLS file's is <lexicon>.")
    default_alphabet = root.get("alphabet", "ipa")
    rules = []
    for number, lexeme in enumerate(_children(root, "lexeme"), start=1):
        graphemes = [(g.text or "").strip() for g in _children(lexeme, "grapheme")]
        graphemes = [g for g in graphemes if g]
        if not graphemes:
            raise PLSError(f"Lexeme {number} has no <grapheme> with text.")
        alias = next(iter(_children(lexeme, "alias")), None)
        phoneme = next(iter(_children(lexeme, "phoneme")), None)
        alias_text = (alias.text or "").strip() if alias is not None else ""
        phoneme_text = (phoneme.text or "").strip() if phoneme is not None else ""
        for grapheme in graphemes:
            if alias_text:
                rules.append(PronunciationRule(grapheme, "alias", alias=alias_text))
            elif phoneme is not None and phoneme_text:
                alphabet = _alphabet(phoneme.get("alphabet", default_alphabet), number)
                rules.append(
                    PronunciationRule(grapheme, "phoneme", phoneme=phoneme_text, alphabet=alphabet)
                )
            else:
                raise PLSError(f"Lexeme {number} ({grapheme!r}) has no <alias> or <phoneme>.")
    return rules


def write_pls(rules: Iterable[PronunciationRule], language: str = "en-US") -> bytes:
    """A PLS file of ``rules`` (UTF-8, with the XML declaration).

    Parameters
    ----------
    rules : iterable of PronunciationRule
        In the order the file lists them.
    language : str
        The lexicon's ``xml:lang``.

    Returns
    -------
    bytes
    """
    root = ElementTree.Element(
        "lexicon",
        {
            "version": "1.0",
            "xmlns": NAMESPACE,
            "alphabet": "ipa",
            "xml:lang": language,
        },
    )
    for rule in rules:
        lexeme = ElementTree.SubElement(root, "lexeme")
        ElementTree.SubElement(lexeme, "grapheme").text = rule.string_to_replace
        if rule.type == "alias":
            ElementTree.SubElement(lexeme, "alias").text = rule.alias
        else:
            attributes = {} if rule.alphabet == "ipa" else {"alphabet": rule.alphabet or ""}
            ElementTree.SubElement(lexeme, "phoneme", attributes).text = rule.phoneme
    ElementTree.indent(root)
    written: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return written


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """Children named ``name``, in the PLS namespace or in none (files often omit it)."""
    return [child for child in element if child.tag in (_NS + name, name)]


def _alphabet(name: str, number: int) -> str:
    alphabet = _ALPHABET_NAMES.get(name.strip().lower())
    if alphabet is None:
        raise PLSError(
            f"Lexeme {number} uses the alphabet {name!r}; this server reads ipa and "
            "cmu-arpabet (x-cmu-arpabet)."
        )
    return alphabet
