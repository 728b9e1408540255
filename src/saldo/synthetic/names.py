"""Common Swedish given names and surnames (after Statistics Sweden's most frequent names),
streets and the municipalities and regions of the synthetic country."""

from __future__ import annotations

MALE_NAMES = (
    "Lars Mikael Anders Johan Erik Per Karl Peter Thomas Jan Daniel Fredrik Hans Andreas Stefan Mohamed "
    "Mats Marcus Magnus Jonas Oskar Alexander Niklas Bengt Nils Björn Martin Leif Henrik Viktor Sven Simon "
    "Mattias Robert Filip Göran Ulf Christer Emil William Patrik Joakim Håkan Sebastian Kjell Rickard Lucas "
    "Hugo Liam Elias Noah Adam Ali Oliver Isak Arvid Axel Ludvig Gustav Anton Olle Rasmus Kent Tobias Jesper"
).split()
FEMALE_NAMES = (
    "Anna Eva Maria Karin Kristina Lena Kerstin Sara Ingrid Emma Marie Malin Birgitta Jenny Inger Annika "
    "Linda Susanne Elin Monica Hanna Johanna Sofia Ulla Katarina Elisabeth Carina Julia Anneli Ida Helena "
    "Camilla Åsa Linnea Margareta Gunilla Cecilia Anita Sandra Ebba Alice Maja Elsa Astrid Wilma Freja Alma "
    "Agnes Ella Olivia Saga Vera Signe Stina Matilda Amanda Frida Louise Nora Fatima Ellen Moa Klara Tove"
).split()
SURNAMES = (
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Pettersson "
    "Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson Olofsson Lindström Lindqvist "
    "Lindgren Berg Axelsson Bergström Lundberg Lundgren Lind Lundqvist Mattsson Berglund Fredriksson "
    "Sandberg Henriksson Forsberg Sjöberg Ali Wallin Engström Mohammed Eklund Danielsson Lundin Håkansson "
    "Björk Bergman Gunnarsson Holm Wikström Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg "
    "Arvidsson Löfgren Söderberg Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Ahmed Viklund "
    "Björklund Eliasson Pålsson Berggren Sandström Lund Nordin Ström Åberg Hermansson Ekström Holmgren "
    "Sundberg Hedlund Dahlberg Hellström Sjögren Abrahamsson Falk Öberg Andreasson Blom Ek Månsson Strand"
).split()
STREETS = (
    "Storgatan Drottninggatan Kungsgatan Skolgatan Järnvägsgatan Kyrkogatan Parkvägen Björkvägen "
    "Ringvägen Industrigatan Nygatan Villagatan Tallvägen Ängsvägen Strandvägen Trädgårdsgatan Södra vägen "
    "Norra Långgatan Hamngatan Åsvägen Granvägen Lärkvägen Smedjegatan Bergsgatan Sjögatan Torggatan"
).split(" ")
ASSOCIATION_WORDS = "Idrottsförening Hembygdsförening Scoutkår Pensionärsförening Musikförening Fotbollsklubb".split()
SCHOOL_WORDS = "Friskola Montessoriskola Gymnasium Grundskola Kunskapsskola".split()
PROVIDER_WORDS = "Omsorg Hemtjänst Vårdcentral Tandvård Assistans Läkarhus".split()
